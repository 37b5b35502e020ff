// Camera QR scanning beside the keyboard-wedge scanner (kiosk/common/camera_scan.py): the tablet's rear camera
// into a <video>, each frame decoded by the browser's BarcodeDetector where it has one for QR codes, else by the
// vendored jsQR (jsQR.js, Apache-2.0). The decoded text goes to the server as `tag_scanned`, exactly as a wedge
// scan does, so one handler serves both. getUserMedia exists only in a secure context (HTTPS, or this host).
window.shopfloorCamera = (function () {
  const FRAME_MS = 150; // about 7 decodes a second: quick enough to feel instant, light on a tablet's battery
  let stream = null;
  let timer = null;
  let detector = null;
  const canvas = document.createElement("canvas");

  function available() {
    return window.isSecureContext && !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  async function qrDetector() {
    if (!("BarcodeDetector" in window)) return null;
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      return formats.includes("qr_code") ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    } catch (e) {
      return null;
    }
  }

  // jsQR on the pixels of an image, a video frame or a canvas; null when it holds no readable QR code
  function decodePixels(source, width, height) {
    if (!width || !height || !window.jsQR) return null;
    canvas.width = width;
    canvas.height = height;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(source, 0, 0, width, height);
    const found = window.jsQR(ctx.getImageData(0, 0, width, height).data, width, height, {
      inversionAttempts: "attemptBoth",
    });
    return found && found.data ? found.data : null;
  }

  async function decode(source, width, height) {
    if (detector) {
      try {
        const codes = await detector.detect(source);
        if (codes.length && codes[0].rawValue) return codes[0].rawValue;
        return null;
      } catch (e) {
        detector = null; // a detector that fails once (an unsupported source) gives way to jsQR
      }
    }
    return decodePixels(source, width, height);
  }

  function stop() {
    if (timer) clearTimeout(timer);
    timer = null;
    if (stream) stream.getTracks().forEach((track) => track.stop());
    stream = null;
  }

  async function start(videoId) {
    stop();
    if (!available()) {
      emitEvent("camera_scan_error", "insecure");
      return;
    }
    const video = document.getElementById("c" + videoId);
    if (!video) return;
    detector = await qrDetector();
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      });
    } catch (e) {
      emitEvent("camera_scan_error", e && e.name ? e.name : "Error");
      return;
    }
    video.srcObject = stream;
    video.setAttribute("playsinline", "");
    video.muted = true;
    try {
      await video.play();
    } catch (e) {
      // autoplay of a muted video is allowed; a refusal here still leaves frames to read once it plays
    }
    const tick = async () => {
      if (!stream) return;
      if (video.readyState >= 2) {
        const text = await decode(video, video.videoWidth, video.videoHeight);
        if (text && stream) {
          stop();
          emitEvent("tag_scanned", text);
          emitEvent("camera_scan_done", "");
          return;
        }
      }
      timer = setTimeout(tick, FRAME_MS);
    };
    tick();
  }

  // the decoder alone on an image URL (a test, or a photo): the decoded text, or null
  function decodeImage(url) {
    return new Promise((resolve) => {
      const img = new Image();
      img.onload = async () => {
        detector = detector || (await qrDetector());
        resolve(await decode(img, img.naturalWidth, img.naturalHeight));
      };
      img.onerror = () => resolve(null);
      img.src = url;
    });
  }

  function usingDetector() {
    return !!detector;
  }

  return { available, start, stop, decodeImage, usingDetector };
})();
