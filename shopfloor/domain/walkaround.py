"""The walkaround and the estimate's words (domain.md §3, the seeds' 环车检查六方位): the six positions in the seeds'
order with what is checked at each, the kinds of damage mark, red/yellow/green, who pays a line, the documents the
customer signs."""

from __future__ import annotations

from enum import StrEnum


class Position(StrEnum):
    """The six positions, walked in this order."""

    INTERIOR = "interior"  # 1 driver's seat: odometer, fuel, warning lamps, audio, A/C, trim, windows, handbrake
    LEFT_FRONT = "left_front"  # 2 door, fender, roof, tyre
    FRONT = "front"  # 3 front at 45°: bumper, lamps, bonnet, windscreen (engine bay opened)
    RIGHT_SIDE = "right_side"  # 4
    REAR = "rear"  # 5 rear and boot: spare wheel, tools
    LEFT_REAR = "left_rear"  # 6


class MarkKind(StrEnum):
    SCRATCH = "scratch"
    DENT = "dent"
    CHIP = "chip"
    CRACK = "crack"
    MISSING = "missing"  # a missing part
    OTHER = "other"


class ItemStatus(StrEnum):
    """The traffic light of a checked item: red needs work now, yellow soon, green is fine."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class Payer(StrEnum):
    CUSTOMER = "customer"
    WARRANTY = "warranty"
    INSURANCE = "insurance"
    INTERNAL = "internal"


class DocumentKind(StrEnum):
    ESTIMATE = "estimate"  # 估价单 / the repair order's priced lines, signed for consent
    HANDOVER = "handover"  # 交接车登记: the car's condition, fuel, odometer and valuables at handover


class FollowupChannel(StrEnum):
    SMS = "sms"
    WECHAT = "wechat"
    PHONE = "phone"
    EMAIL = "email"
    NONE = "none"


# The items checked at each position (the seeds' list); keys are stable (stored, in the API), labels are in the
# locale catalogue under walkaround.item.<key>. Measured items (tyre tread, brake pads) are added where an operation
# on the order asks for them (LabourOperation.measurements).
ITEMS: dict[Position, tuple[str, ...]] = {
    Position.INTERIOR: ("warning_lamps", "audio", "air_conditioning", "trim", "windows", "handbrake",
                        "seat_position_marked"),
    Position.LEFT_FRONT: ("left_front_door", "left_front_fender", "roof", "left_front_tyre"),
    Position.FRONT: ("front_bumper", "headlamps", "bonnet", "windscreen", "engine_bay"),
    Position.RIGHT_SIDE: ("right_doors", "right_fenders", "right_tyres", "right_mirror"),
    Position.REAR: ("rear_bumper", "tail_lamps", "boot", "spare_wheel", "tools"),
    Position.LEFT_REAR: ("left_rear_door", "left_rear_fender", "left_rear_tyre", "fuel_flap"),
}
MEASUREMENTS = ("tyre_tread", "brake_pad")  # millimetres; thresholds in [reception]
