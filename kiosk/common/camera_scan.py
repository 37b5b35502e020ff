"""A camera button beside the keyboard-wedge scanner (issue 13): it opens the tablet's rear camera in a dialog and
decodes QR codes in the browser (static/camera_scan.js: BarcodeDetector where present, else the vendored jsQR).
What it reads reaches the page as a `tag_scanned` event, the very one the wedge scanner sends, so the page's scan
handler takes both.

Browsers give the camera only to a secure context: HTTPS, or a page opened on this host itself. On plain HTTP from
another device the button stays, and says HTTPS is needed and why, rather than vanishing without a word."""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING

from nicegui import ui

from shopfloor.kiosk.common.attributes import set_attrs

if TYPE_CHECKING:
    from fastapi import Request

    from shopfloor.i18n import Translator

SCRIPTS = ("jsQR.js", "camera_scan.js")  # in kiosk/common/static, served by the page under its static URL
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
CAMERA_ERRORS = frozenset({"NotAllowedError", "NotFoundError", "NotReadableError", "OverconstrainedError",
                           "insecure"})


def secure_context(request: Request) -> bool:
    """What the browser will decide: HTTPS, or this host itself (localhost is a secure context over HTTP too)."""
    host = (request.url.hostname or "").lower()
    return request.url.scheme == "https" or host in LOCAL_HOSTS or host.endswith(".localhost")


class CameraScan:
    """The camera's dialog and scripts, made once per page (`static_url` serves kiosk/common/static); `button()`
    draws its button wherever the page wants it (again after a redraw)."""

    def __init__(self, t: Translator, static_url: str) -> None:
        self.t = t
        client = ui.context.client
        self.secure = secure_context(client.request)
        for script in SCRIPTS:
            ui.add_body_html(f'<script src="{html.escape(f"{static_url}/{script}")}"></script>')
        self.dialog = ui.dialog().props("persistent").mark("camera-dialog")
        with self.dialog, ui.card().classes("items-center").style("width: min(92vw, 720px)"):
            ui.label(t("camera.title")).classes("text-lg font-medium")
            self.video = ui.element("video").props("autoplay muted playsinline") \
                .classes("w-full rounded bg-black").style("max-height: 60vh").mark("camera-video") \
                .props("data-testid=camera-video")
            self.status = ui.label(t("camera.looking")).classes("text-grey-8 text-center").mark("camera-status")
            ui.button(t("camera.cancel"), icon="close", on_click=self.close).props("flat").mark("camera-cancel")
        ui.on("camera_scan_done", self._done)
        ui.on("camera_scan_error", lambda e: self._error(str(e.args)))

    def button(self, size: str = "md") -> ui.button:
        t = self.t
        if self.secure:
            button = ui.button(t("camera.button"), icon="photo_camera", on_click=self.open) \
                .props("outline data-testid=camera-button").mark("camera-button")
        else:
            button = ui.button(t("camera.needs_https"), icon="no_photography", on_click=self.explain) \
                .props("outline color=grey-8 data-testid=camera-button data-secure=false").mark("camera-button")
        return set_attrs(button, size=size)

    async def open(self) -> None:
        self.status.set_text(self.t("camera.looking"))
        self.dialog.open()
        ui.run_javascript(f"window.shopfloorCamera && window.shopfloorCamera.start({json.dumps(self.video.id)})")

    def close(self) -> None:
        ui.run_javascript("window.shopfloorCamera && window.shopfloorCamera.stop()")
        self.dialog.close()

    def _done(self) -> None:
        self.dialog.close()

    def _error(self, name: str) -> None:
        if name == "insecure":
            self.dialog.close()
            self.explain()
            return
        key = name if name in CAMERA_ERRORS else "other"
        self.status.set_text(self.t(f"camera.error.{key}"))

    def explain(self) -> None:
        """Why the camera is off here, and what makes it work: HTTPS with the site's CA on the tablet."""
        with ui.dialog() as dialog, ui.card().classes("max-w-xl").mark("camera-https"):
            ui.label(self.t("camera.https_title")).classes("text-lg font-medium")
            ui.label(self.t("camera.https_body")).classes("text-grey-9").props("data-testid=camera-https")
            ui.button(self.t("camera.ok"), on_click=dialog.close).props("flat")
        dialog.open()
