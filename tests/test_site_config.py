"""The site configuration changed through SiteConfigService (SQLite and PostgreSQL): a change is checked as a whole
file, a bad value is refused with its key named and the file left as it was, the written file loads back to the
settings in use, the services' context holds the new settings at once, listeners hear of it and the audit trail
says which keys changed from what to what."""

from __future__ import annotations

import difflib
import shutil
from datetime import time
from pathlib import Path
from typing import Any

import pytest

from shopfloor import settings as settings_mod
from shopfloor.domain.errors import Invalid
from shopfloor.services.audit import Actor, AuditService, Entity
from shopfloor.services.setup.site_config import SiteConfigService
from shopfloor.settings import Settings
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

pytestmark = ON_BOTH_DATABASES

MANAGER = Actor("赵经理", staff_id=5)


@pytest.fixture
def config(services: Services, tmp_path: Path) -> SiteConfigService:
    path = tmp_path / "site.toml"
    shutil.copyfile(settings_mod.demo_config_path(), path)
    return SiteConfigService(services.ctx, path)


def test_a_change_is_written_reloads_equal_swaps_the_settings_and_is_audited(services: Services,
                                                                             config: SiteConfigService) -> None:
    heard: list[Settings] = []
    config.changed.subscribe(heard.append)
    before = services.ctx.settings
    new = config.update({"workshop": {"labour_rate": 345.5}, "site": {"closing": time(19, 30)}}, MANAGER,
                        what="labour_rates")
    assert new.workshop.labour_rate == 345.5 and new.site.closing == time(19, 30)
    assert services.ctx.settings is new and config.settings is new and heard == [new]
    # everything else kept as the file had it
    assert new.printers == before.printers and new.booking == before.booking and new.site.name == before.site.name
    assert settings_mod.load(config.path) == new
    rows = AuditService(services.ctx).read(Entity.SITE_CONFIG)
    assert [(r.entity_id, r.action, r.actor) for r in rows] == [("labour_rates", "changed", "赵经理")]
    changes = {c["key"]: (c["from"], c["to"]) for c in rows[0].detail["changes"]}
    assert changes == {"workshop.labour_rate": (before.workshop.labour_rate, 345.5),
                       "site.closing": (f"{before.site.closing:%H:%M}", "19:30")}
    assert rows[0].detail["sections"] == ["site", "workshop"]


def test_the_sites_comments_and_layout_stay_where_nothing_changed(services: Services,
                                                                   config: SiteConfigService) -> None:
    before = config.path.read_text(encoding="utf-8")
    config.update({"workshop": {"labour_rate": 345.5}}, MANAGER, what="labour_rates")

    def add_printer(doc: dict[str, Any]) -> None:
        doc["printers"].append({"name": "bay3", "transport": "network", "host": "192.168.1.50"})

    config.update(add_printer, MANAGER, what="printers")
    after = config.path.read_text(encoding="utf-8")
    diff = [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    # one value changed on its own line (its comment kept beside it); the new printer added; nothing else
    assert [line for line in diff if line.startswith("-")] == [next(
        line for line in ["-" + x for x in before.splitlines()] if line.startswith("-labour_rate"))]
    assert diff[1].startswith("+labour_rate = 345.5") and "# yuan per flat-rate hour" in diff[1]
    assert [line for line in diff[2:] if line.strip("+ ")] == [
        "+[[printers]]", '+name = "bay3"', '+transport = "network"', '+host = "192.168.1.50"']
    new = settings_mod.load(config.path)
    assert new == services.ctx.settings and new.printer("bay3").host == "192.168.1.50"
    assert new.workshop.labour_rate == 345.5


INIT_STYLE = """# written by `shopfloor init`
printers = [
    { name = "reception", label = "前台", transport = "file" },
]

# 本店营业时间由张经理确认
[site]
id = "demo"
name = "北京朝阳4S店"
timezone = "Asia/Shanghai"
language = "zh-CN"  # 界面语言

# 文件末尾注释
"""


def test_a_form_of_many_fields_writes_the_one_that_changed_in_an_init_written_file(
        services: Services, tmp_path: Path) -> None:
    """init writes the printers as an inline array at the top: it stays one, above the comment that was above
    [site]; the hours form sends eight fields and one line changes; saving again and again grows nothing."""
    path = tmp_path / "site.toml"
    path.write_text(INIT_STYLE, encoding="utf-8")
    config = SiteConfigService(services.ctx, path)
    services.ctx.settings = settings_mod.load(path)
    now = services.ctx.settings
    hours = {"opening": now.site.opening, "workdays": now.booking.workdays, "shift_start": now.booking.shift_start,
             "shift_end": now.booking.shift_end, "break_minutes": now.booking.break_minutes,
             "slot_minutes": now.booking.slot_minutes, "walk_in_reserve": now.booking.walk_in_reserve}
    config.set_hours(closing=time(19, 0), **hours, actor=MANAGER)
    assert path.read_text(encoding="utf-8") == INIT_STYLE.replace(
        'language = "zh-CN"  # 界面语言\n', 'language = "zh-CN"  # 界面语言\nclosing = 19:00:00\n')
    rows = AuditService(services.ctx).read(Entity.SITE_CONFIG)
    assert [c["key"] for c in rows[-1].detail["changes"]] == ["site.closing"]
    config.update(lambda doc: doc["printers"][0].update(label="接待台"), MANAGER, what="printers")
    assert [(c["key"], c["from"], c["to"]) for c in AuditService(services.ctx).read(Entity.SITE_CONFIG)[-1]
            .detail["changes"]] == [("printers.reception.label", "前台", "接待台")]
    config.update(lambda doc: doc["printers"][0].update(label="前台"), MANAGER, what="printers")

    def printers(*labels: str) -> Any:
        def change(doc: dict[str, Any]) -> None:
            doc["printers"] = [{"name": "reception", "label": labels[0], "transport": "file"}] + [
                {"name": f"p{i}", "label": label, "transport": "file"} for i, label in enumerate(labels[1:])]
        return change

    config.update(printers("前台", "车间"), MANAGER, what="printers")
    first = path.read_text(encoding="utf-8")
    assert first.index('name = "p0"') < first.index("# 本店营业时间由张经理确认") < first.index("[site]")
    for label in ("车间二", "车间三", "车间"):
        config.update(printers("前台", label), MANAGER, what="printers")
        config.set_hours(closing=time(19, 0), **hours, actor=MANAGER)  # nothing changes: nothing written
    assert path.read_text(encoding="utf-8") == first
    assert settings_mod.load(path) == services.ctx.settings


def test_a_bad_value_is_refused_with_its_key_and_the_file_untouched(services: Services,
                                                                    config: SiteConfigService) -> None:
    text = config.path.read_text(encoding="utf-8")
    before = services.ctx.settings
    with pytest.raises(Invalid) as refused:
        config.update({"site": {"closing": time(7, 0)}}, MANAGER, what="hours")
    assert "site" in refused.value.message("en") and "closing 07:00 must be after opening" in refused.value.message()
    with pytest.raises(Invalid) as refused:
        config.update({"workshop": {"labour_rate": -1}}, MANAGER, what="labour_rates")
    assert "workshop.labour_rate" in refused.value.message("en")
    with pytest.raises(Invalid) as refused:
        config.update(lambda doc: doc.update(printers=[]), MANAGER, what="printers")
    assert "printers" in refused.value.message("en")
    assert config.path.read_text(encoding="utf-8") == text
    assert services.ctx.settings is before
    assert AuditService(services.ctx).read(Entity.SITE_CONFIG) == []
    assert not [p for p in config.path.parent.iterdir() if p.name.endswith(".tmp")]


def test_no_change_writes_nothing(services: Services, config: SiteConfigService) -> None:
    text = config.path.read_text(encoding="utf-8")
    same = config.update({"workshop": {"labour_rate": services.ctx.settings.workshop.labour_rate}}, MANAGER,
                         what="labour_rates")
    assert same is services.ctx.settings and config.path.read_text(encoding="utf-8") == text
    assert AuditService(services.ctx).read(Entity.SITE_CONFIG) == []


def test_without_a_file_the_settings_in_use_are_written(services: Services, tmp_path: Path) -> None:
    config = SiteConfigService(services.ctx, tmp_path / "new" / "site.toml")
    before = services.ctx.settings
    new = config.update(lambda doc: doc["booking"].update(slot_minutes=30), MANAGER, what="hours")
    assert new.booking.slot_minutes == 30
    assert new.model_copy(update={"booking": before.booking}) == before
    assert settings_mod.load(config.path) == new


def test_hours_and_rates_forms(services: Services, config: SiteConfigService) -> None:
    config.set_hours(opening=time(7, 30), closing=time(18, 0), workdays=[6, 1, 2, 2], shift_start=time(8, 0),
                     shift_end=time(17, 0), break_minutes=45, slot_minutes=20, walk_in_reserve=0.25, actor=MANAGER)
    s = services.ctx.settings
    assert (s.site.opening, s.site.closing, s.booking.workdays, s.booking.slot_minutes) == (
        time(7, 30), time(18, 0), [1, 2, 6], 20)
    assert (s.booking.shift_start, s.booking.break_minutes, s.booking.walk_in_reserve) == (time(8, 0), 45, 0.25)
    form = {"opening": time(7, 30), "closing": time(18, 0), "workdays": [1], "shift_start": time(8, 0),
            "shift_end": time(17, 0), "break_minutes": 45, "slot_minutes": 20, "walk_in_reserve": 0.25}
    for wrong, said in (({"closing": time(7, 0)}, "关门时间（07:00）必须晚于开门时间（07:30），未保存。"),
                        ({"shift_end": time(8, 0)}, "班次结束时间（08:00）必须晚于开始时间（08:00），未保存。"),
                        ({"workdays": []}, "请至少选择一个工作日，未保存。")):
        with pytest.raises(Invalid) as refused:
            config.set_hours(**(form | wrong), actor=MANAGER)
        assert refused.value.message("zh-CN") == said
    assert services.ctx.settings is s  # nothing saved of a refused form
    config.set_labour_rates(labour_rate=280, per_skill={"repair": 420.0}, actor=MANAGER)
    assert services.ctx.settings.reception.labour_rate("repair", 0) == 420.0
    assert services.ctx.settings.workshop.labour_rate == 280
    config.set_labour_rates(labour_rate=280, per_skill={}, actor=MANAGER)
    assert services.ctx.settings.reception.labour_rates == {}
    assert [r.entity_id for r in AuditService(services.ctx).read(Entity.SITE_CONFIG)] == [
        "hours", "labour_rates", "labour_rates"]


def test_setup_never_rewrites_the_shipped_demo_configuration(tmp_path: Path) -> None:
    from shopfloor.cli import _writable_config

    assert _writable_config(settings_mod.demo_config_path(), tmp_path) == tmp_path / "site.toml"
    own = tmp_path / "elsewhere" / "shop.toml"
    assert _writable_config(own, tmp_path) == own.resolve()
