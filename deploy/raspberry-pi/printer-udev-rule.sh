#!/usr/bin/env bash
# Prints the udev rule line that names an attached USB printer /dev/shopfloor/printer-<serial> (or
# printer-NAME with --name), by the USB device's idVendor, idProduct and serial number.
#   printer-udev-rule.sh /dev/usb/lp0
#   printer-udev-rule.sh --name reception /dev/ttyUSB0 >> /etc/udev/rules.d/99-shopfloor-printers.rules
set -euo pipefail

name=""
if [ "${1:-}" = --name ]; then
  name=${2:?--name needs a name}
  shift 2
fi
device=${1:?usage: printer-udev-rule.sh [--name NAME] /dev/usb/lpN|/dev/ttyUSBN}
[ -e "$device" ] || { echo "printer-udev-rule.sh: no device $device" >&2; exit 1; }

vendor="" product="" serial="" subsystem=""
while IFS='=' read -r key value; do
  case $key in
    ID_VENDOR_ID) vendor=$value ;;
    ID_MODEL_ID) product=$value ;;
    ID_SERIAL_SHORT) serial=$value ;;
    SUBSYSTEM) subsystem=$value ;;
  esac
done < <(udevadm info --query=property --name="$device")

if [ -z "$vendor" ] || [ -z "$product" ]; then
  echo "printer-udev-rule.sh: $device is not a USB device (no ID_VENDOR_ID/ID_MODEL_ID from udevadm)" >&2
  exit 1
fi
case $subsystem in
  usbmisc) match='SUBSYSTEM=="usbmisc", KERNEL=="lp[0-9]*"' ;;
  tty) match='SUBSYSTEM=="tty", KERNEL=="ttyUSB[0-9]*|ttyACM[0-9]*"' ;;
  *) echo "printer-udev-rule.sh: $device is in subsystem '$subsystem', not a USB printer (usbmisc) or serial port (tty)" >&2
     exit 1 ;;
esac
if [ -z "$serial" ]; then
  # Two of the same model without serial numbers cannot be told apart by the device: name it by its USB port.
  [ -n "$name" ] || { echo "printer-udev-rule.sh: $device reports no serial number: give --name NAME" >&2; exit 1; }
  echo "# $device has no serial number: this line matches any $vendor:$product" >&2
fi
# udev's rule syntax takes no quote inside a value: keep letters, digits and - _ . only
clean() { printf '%s' "$1" | tr -c 'A-Za-z0-9._-' '_'; }
link="shopfloor/printer-$(clean "${name:-$serial}")"
line="$match, ATTRS{idVendor}==\"$(clean "$vendor")\", ATTRS{idProduct}==\"$(clean "$product")\""
[ -n "$serial" ] && line="$line, ATTRS{serial}==\"$(clean "$serial")\""
printf '%s, SYMLINK+="%s", GROUP="%s", MODE="0660"\n' "$line" "$link" "$([ "$subsystem" = tty ] && echo dialout || echo lp)"
