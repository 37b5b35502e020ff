"""/setup's catalogues and configuration as services and over the API (SQLite and PostgreSQL): labour operations,
parts, printers and message texts added, changed and removed (what is in use stays), a test print as a print job
on the printer's topic, each list's CSV imported with a bad line among good ones (the good ones kept, the bad one
named by line and column), the manager's permission on every route, and the routes in OpenAPI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from shopfloor import settings as settings_mod
from shopfloor.contract import topics
from shopfloor.contract.staff import StaffRole
from shopfloor.credentials import ApiToken, generate
from shopfloor.credentials import load as load_credentials
from shopfloor.credentials import write as write_credentials
from shopfloor.domain.aftersales import MessageTemplate
from shopfloor.domain.errors import Invalid, Refused
from shopfloor.domain.models import JobLine, OutboxMessage, PrintJob
from shopfloor.domain.parts_models import PartsLine
from shopfloor.services.audit import Actor, AuditService, Entity
from shopfloor.services.customer_messages import templates as message_texts
from shopfloor.services.setup.catalogue import CatalogueSetup
from shopfloor.services.setup.printers import TEST
from shopfloor.testing.api_fixtures import api_app
from shopfloor.testing.plugin import ON_BOTH_DATABASES, Services

pytestmark = ON_BOTH_DATABASES

API = "/api/v1"
MANAGER = Actor("赵经理", staff_id=5)
ADVISOR = ApiToken("advisor-desk", "advisor-token", frozenset({StaffRole.ADVISOR}))
OWNER = ApiToken("owner", "owner-token", frozenset({StaffRole.MANAGER}))


@pytest.fixture
def setup(services: Services, tmp_path: Path) -> CatalogueSetup:
    path = tmp_path / "site.toml"
    shutil.copyfile(settings_mod.demo_config_path(), path)
    creds = generate([], [p.name for p in services.ctx.settings.printers])
    write_credentials(tmp_path / "credentials.toml", creds)
    return CatalogueSetup.on(services.ctx, path, tmp_path, creds, services.printing)


@pytest.fixture
def app(services: Services, setup: CatalogueSetup) -> FastAPI:
    return api_app(services.ctx, "integrator", ADVISOR, OWNER, catalogue=setup)


def client(app: FastAPI, token: ApiToken) -> TestClient:
    return TestClient(app, headers={"Authorization": f"Bearer {token.token}"})


# -- services --------------------------------------------------------------------------------------------------------
def test_operations_are_added_changed_and_removed_unless_in_use(services: Services,
                                                               setup: CatalogueSetup) -> None:
    ops = setup.operations
    added = ops.save("wash1", "洗车", "", "0.3", "maintenance", None, None, actor=MANAGER)
    assert (added.code, added.name_en, added.hours, added.in_use) == ("WASH1", "洗车", 0.3, False)
    changed = ops.save("WASH1", "精洗", "Full wash", 0.5, "maintenance", "wash_bay", "", actor=MANAGER)
    assert (changed.name_zh, changed.hours, changed.equipment) == ("精洗", 0.5, "wash_bay")
    with pytest.raises(Invalid) as bad:
        ops.save("WASH2", "洗车", "", 0, "maintenance", actor=MANAGER)
    assert bad.value.key == "setup_catalogue.operations.error.hours" and bad.value.params["field"] == "hours"
    with pytest.raises(Invalid):
        ops.save("WASH2", "洗车", "", 1, "paint", actor=MANAGER)
    removed = ops.remove("wash1", actor=MANAGER)
    assert (removed.code, removed.name_zh, removed.hours, removed.equipment) == ("WASH1", "精洗", 0.5, "wash_bay")
    assert "WASH1" not in {o.code for o in ops.entries()}
    with services.db.read() as s:
        used = s.scalar(select(JobLine.operation_code).where(JobLine.operation_code.is_not(None)).limit(1))
    assert used is not None
    with pytest.raises(Refused):
        ops.remove(used, actor=MANAGER)
    with pytest.raises(Refused):  # [reception] proposals name it
        ops.remove("BRK", actor=MANAGER)
    trail = [(r.entity_id, r.action) for r in AuditService(services.ctx).read(Entity.OPERATION)]
    assert trail == [("WASH1", "operation_added"), ("WASH1", "operation_changed"), ("WASH1", "operation_removed")]


def test_an_operation_in_use_is_taken_out_of_use_and_offered_for_no_new_work(services: Services,
                                                                            setup: CatalogueSetup,
                                                                            app: FastAPI) -> None:
    ops = setup.operations
    with services.db.read() as s:
        code = s.scalar(select(JobLine.operation_code).where(JobLine.operation_code.is_not(None)).limit(1))
    assert code is not None
    now = ops.get(code)
    assert now.in_use and now.active
    retired = ops.save(code, now.name_zh, now.name_en, now.hours, now.skill, now.equipment, now.interval_km,
                       active=False, actor=MANAGER)
    assert (retired.active, retired.in_use, retired.hours) == (False, True, now.hours)
    assert code in {o.code for o in ops.entries()}  # the history keeps it
    assert code not in {o.code for o in services.checkin.operations()}
    assert code in {o.code for o in services.checkin.operations(out_of_use=True)}
    # a change of hours leaves it out of use
    assert ops.save(code, now.name_zh, now.name_en, now.hours + 0.5, now.skill, now.equipment, now.interval_km,
                    actor=MANAGER).active is False
    with pytest.raises(Invalid) as booked:  # no new booking names it
        services.booking.lines(codes=[code])
    assert booked.value.key == "error.operation_out_of_use"
    owner = client(app, OWNER)
    assert code not in {o["code"] for o in owner.get(f"{API}/operations").json()}
    slots = client(app, ADVISOR).get(f"{API}/slots", params={"day": services.ctx.today().isoformat(),
                                                            "operations": [code]})
    assert slots.status_code == 422 and "out of use" in slots.json()["detail"]
    listed = {o["code"]: o for o in owner.get(f"{API}/setup/operations").json()}
    assert listed[code]["active"] is False and listed[code]["in_use"] is True
    exported = ops.export_csv().decode("utf-8-sig").splitlines()
    assert next(line for line in exported if line.startswith(f"{code},")).endswith(",no")
    report = ops.import_csv(f"code,name_zh,hours,skill,active\n{code},{now.name_zh},{now.hours},{now.skill},"
                            f"maybe\n".encode(), actor=MANAGER)
    assert [(e.line, e.column, e.key) for e in report.errors] == [(2, "active", "setup_people.error.people.yes_no")]
    back = owner.put(f"{API}/setup/operations/{code}", json={"name_zh": now.name_zh, "hours": now.hours,
                                                             "skill": now.skill, "active": True})
    assert back.status_code == 200 and back.json()["active"] is True
    assert code in {o["code"] for o in owner.get(f"{API}/operations").json()}
    changes = [r for r in AuditService(services.ctx).read(Entity.OPERATION) if r.entity_id == code]
    assert ("operation_changed", "active=False") in [(r.action, r.to_value) for r in changes]
    assert any("active=True" in (r.to_value or "") for r in changes)


def test_operations_csv_keeps_the_good_lines(setup: CatalogueSetup) -> None:
    ops = setup.operations
    exported = ops.export_csv().decode("utf-8-sig")
    assert exported.splitlines()[0] == "code,name_zh,name_en,hours,skill,equipment,interval_km,active"
    assert any(line.startswith("M20,20000公里保养,") for line in exported.splitlines())
    data = ("code,name_zh,name_en,hours,skill,equipment,interval_km\n"
            "N01,新项目一,New one,1.5,repair,,\n"
            "N02,新项目二,New two,abc,repair,,\n"
            "N03,新项目三,,0.4,maintenance,,7500\n"
            "M20,20000公里保养,\"20,000 km service\",2.0,maintenance,,20000\n").encode("gb18030")
    report = ops.import_csv(data, actor=MANAGER)
    assert (report.rows, report.added, report.updated) == (4, 2, 1)
    assert [(e.line, e.column, e.key) for e in report.errors] == [
        (3, "hours", "setup_catalogue.operations.error.hours")]
    by_code = {o.code: o for o in ops.entries()}
    assert by_code["N01"].hours == 1.5 and by_code["N03"].interval_km == 7500 and "N02" not in by_code
    assert by_code["M20"].hours == 2.0
    assert ops.import_csv(ops.export_csv(), actor=MANAGER).unchanged == len(by_code)


def test_parts_csv_and_removal(services: Services, setup: CatalogueSetup) -> None:
    parts = setup.parts
    data = ("number,name,price,stock\n"
            "NEW-1,新零件,12.50,3\n"
            "NEW-2,,5,1\n"
            "NEW-3,另一个,-4,1\n"
            "NEW-4,无库存列,8,\n").encode()
    report = parts.import_csv(data, actor=MANAGER)
    assert (report.added, report.updated) == (2, 0)
    assert [(e.line, e.column) for e in report.errors] == [(3, "name"), (4, "price")]
    found = {p.number: p for p in parts.search("NEW-")}
    assert set(found) == {"NEW-1", "NEW-4"} and found["NEW-1"].price == 12.5 and found["NEW-4"].stock == 0
    removed = parts.remove("new-1", actor=MANAGER)
    assert (removed.number, removed.name, removed.price, removed.stock) == ("NEW-1", "新零件", 12.5, 3)
    assert [p.number for p in parts.search("NEW-")] == ["NEW-4"]
    with services.db.read() as s:
        used = s.scalar(select(PartsLine.number).where(PartsLine.part_id.is_not(None)).limit(1))
    if used is not None:
        with pytest.raises(Refused):
            parts.remove(used, actor=MANAGER)
    assert "number,name,price,stock" in parts.export_csv().decode("utf-8-sig").splitlines()[0]


def test_printers_added_with_an_account_and_never_the_last_removed(services: Services, tmp_path: Path,
                                                                  setup: CatalogueSetup) -> None:
    printers = setup.printers
    saved = printers.save({"name": "bay3", "label": "三号工位", "transport": "network", "host": "192.168.1.50",
                           "columns": "32"}, actor=MANAGER)
    assert saved.new_account and saved.printer.columns == 32 and saved.printer.port == 9100
    assert "bay3" in load_credentials(tmp_path).printers
    assert services.ctx.settings.printer("bay3").host == "192.168.1.50"
    with pytest.raises(Invalid) as bad:
        printers.save({"name": "bay4", "transport": "network"}, actor=MANAGER)
    assert bad.value.message("zh-CN") == "网络打印机需要填写地址：打印机的 IP 地址或主机名。"
    assert "needs its address" in bad.value.message("en")
    with pytest.raises(Invalid) as bad:
        printers.save({"name": "bay4", "transport": "serial"}, actor=MANAGER)
    assert "/dev/ttyUSB0" in bad.value.message("zh-CN") and "设备" in bad.value.message("zh-CN")
    with pytest.raises(Invalid) as bad:
        printers.save({"name": "Bay 4!", "transport": "file"}, actor=MANAGER)
    assert bad.value.message("zh-CN").startswith("名称“Bay 4!”：只能用小写字母")
    with pytest.raises(Invalid) as bad:
        printers.save({"name": "bay4", "transport": "network", "host": "10.0.0.9", "port": "70000"}, actor=MANAGER)
    assert bad.value.message("zh-CN").startswith("端口“70000”：应为 1 到 65535")
    assert "bay4" not in [p.name for p in services.ctx.settings.printers]  # nothing saved of a refused form
    with pytest.raises(Invalid) as bad:  # adding under a name in use must not overwrite that printer
        printers.save({"name": "bay3", "transport": "file"}, actor=MANAGER)
    assert bad.value.message("zh-CN").startswith("已有名为“bay3”的打印机")
    with pytest.raises(Invalid):  # nor renaming onto it
        printers.save({"name": "bay3", "transport": "file"}, actor=MANAGER, original="reception")
    assert services.ctx.settings.printer("bay3").host == "192.168.1.50"
    again = printers.save({"name": "bay3", "label": "三号", "transport": "usb", "device": "/dev/usb/lp1"},
                          actor=MANAGER, original="bay3")
    assert not again.new_account and again.printer.transport == "usb" and again.printer.host == ""
    for p in list(services.ctx.settings.printers)[:-1]:
        assert printers.remove(p.name, actor=MANAGER) == p
    assert len(services.ctx.settings.printers) == 1
    with pytest.raises(Refused):
        printers.remove(services.ctx.settings.printers[0].name, actor=MANAGER)
    assert settings_mod.load(setup.config.path) == services.ctx.settings


def test_a_test_print_is_a_job_on_the_printers_topic(services: Services,
                                                     setup: CatalogueSetup) -> None:
    job = setup.printers.test_print("reception", actor=MANAGER)
    assert (job.printer, job.kind, job.status) == ("reception", TEST, "pending")
    with services.db.read() as s:
        stored = s.get(PrintJob, job.id)
        assert stored is not None and "打印测试".encode("gb18030") in stored.data
        topic = topics.print_job(services.ctx.site, "reception", job.id)
        assert s.scalar(select(OutboxMessage.id).where(OutboxMessage.topic == topic)) is not None
    assert setup.printers.job_status(job.id) == ("pending", "")


def test_message_texts_set_checked_previewed_and_reset(services: Services,
                                                       setup: CatalogueSetup) -> None:
    texts = setup.templates
    with pytest.raises(Invalid) as bad:
        texts.set_text("zh-CN", "ready", "sms", "{custmer}您好，{plate}已完工", actor=MANAGER)
    assert bad.value.params["field"] == "custmer"
    with pytest.raises(Invalid):
        texts.set_text("zh-CN", "ready", "sms", "{customer 您好", actor=MANAGER)
    mine = texts.set_text("zh-CN", "ready", "sms", "【{site}】{customer}，{plate}好了[[，{amount}]]", actor=MANAGER)
    assert mine.own is not None and mine.built_in != mine.own
    assert message_texts.text(services.ctx, MessageTemplate.READY, "sms", "zh-CN") == mine.own
    site = services.ctx.settings.site.name
    assert site and texts.preview("zh-CN", "ready", "sms") == f"【{site}】王先生，京A·12345好了，¥1,234.00"
    back = texts.reset("zh-CN", "ready", "sms", actor=MANAGER)
    assert back.own is None and services.ctx.settings.message_templates == {}
    assert message_texts.text(services.ctx, MessageTemplate.READY, "sms", "zh-CN") == back.built_in
    data = (b"language,template,channel,text\n"
            b"en,ready,sms,\"{customer}, {plate} is ready.\"\n"
            b"en,readyy,sms,x\n"
            b"zh-CN,thank_you,wechat,{nobody}\n")
    report = texts.import_csv(data, actor=MANAGER)
    assert report.added == 1 and [(e.line, e.column) for e in report.errors] == [(3, "template"), (4, "text")]
    assert services.ctx.settings.message_templates == {"en": {"ready": {"sms": "{customer}, {plate} is ready."}}}
    assert len(texts.texts()) == 2 * len(MessageTemplate) * 5


# -- the API ---------------------------------------------------------------------------------------------------------
def test_the_api_needs_the_manager(app: FastAPI) -> None:
    advisor = client(app, ADVISOR)
    for method, path in (("get", "/setup/hours"), ("get", "/setup/operations"), ("get", "/setup/printers"),
                         ("put", "/setup/labour-rates"), ("post", "/setup/printers/reception/test-print")):
        r = advisor.request(method.upper(), f"{API}{path}", json={} if method != "get" else None)
        assert r.status_code == 403, (path, r.text)
        assert "setup" in r.json()["detail"]


def test_the_api_changes_rates_hours_operations_and_prints(services: Services, app: FastAPI) -> None:
    owner = client(app, OWNER)
    rates = owner.put(f"{API}/setup/labour-rates", json={"labour_rate": 320, "per_skill": {"repair": 450}})
    assert rates.status_code == 200 and rates.json()["per_skill"] == {"repair": 450}
    assert services.ctx.settings.reception.labour_rate("repair", 0) == 450
    hours = owner.get(f"{API}/setup/hours").json()
    assert (hours["opening"], hours["closing"]) == ("08:00", "20:00")  # HH:MM, site time: no offset
    refused = owner.put(f"{API}/setup/hours", json={**hours, "closing": "06:00"})
    assert refused.status_code == 422 and "closing" in refused.json()["detail"].lower()
    assert owner.put(f"{API}/setup/hours", json={**hours, "slot_minutes": 30}).json()["slot_minutes"] == 30
    put = owner.put(f"{API}/setup/operations/T99", json={"name_zh": "测试", "hours": 1.2, "skill": "repair"})
    assert put.status_code == 200 and put.json()["code"] == "T99"
    csv = "code,name_zh,hours,skill\nT98,好,1,repair\nT97,坏,1,welding\n"
    imported = owner.post(f"{API}/setup/operations.csv", json={"csv": csv}).json()
    assert (imported["added"], imported["failed"]) == (1, 1)
    assert imported["errors"] == [{"line": 3, "column": "skill",
                                   "message": "Unknown skill class “welding” (known: maintenance, repair)."}]
    removed = owner.delete(f"{API}/setup/operations/T99")
    assert removed.status_code == 200 and removed.json() == {**put.json(), "in_use": False}
    assert owner.delete(f"{API}/setup/operations/T99").status_code == 404
    job = owner.post(f"{API}/setup/printers/parts/test-print")
    assert job.status_code == 202 and job.json()["status"] == "pending"
    assert owner.get(f"{API}/setup/print-jobs/{job.json()['id']}").json()["status"] == "pending"
    text = owner.put(f"{API}/setup/message-templates/en/ready/sms", json={"text": "{customer}: ready"})
    assert text.status_code == 200 and text.json()["own"] and text.json()["preview"] == "Mr Wang: ready"
    assert owner.delete(f"{API}/setup/message-templates/en/ready/sms").json()["own"] is False
    trail = AuditService(services.ctx).read(Entity.SITE_CONFIG)
    assert {r.actor for r in trail} == {"owner"}
    assert [r.entity_id for r in trail][:2] == ["labour_rates", "hours"]


def test_the_api_removes_a_part_and_a_printer_answering_them_as_they_were(services: Services, app: FastAPI) -> None:
    owner = client(app, OWNER)
    part = owner.put(f"{API}/setup/parts/api-1", json={"name": "滤清器", "price": 38.5, "stock": 4})
    assert part.status_code == 200, part.text
    removed = owner.delete(f"{API}/setup/parts/{part.json()['number']}")
    assert removed.status_code == 200 and removed.json() == part.json() == {
        "number": "API-1", "name": "滤清器", "price": 38.5, "stock": 4}
    assert owner.delete(f"{API}/setup/parts/API-1").status_code == 404
    printers = owner.get(f"{API}/setup/printers").json()
    *others, last = printers
    for printer in others:
        gone = owner.delete(f"{API}/setup/printers/{printer['name']}")
        assert gone.status_code == 200 and gone.json() == printer
    assert [p.name for p in services.ctx.settings.printers] == [last["name"]]
    refused = owner.delete(f"{API}/setup/printers/{last['name']}")
    assert refused.status_code == 409 and owner.get(f"{API}/setup/printers").json() == [last]


def test_the_routes_are_in_openapi_with_their_permission(app: FastAPI) -> None:
    schema = TestClient(app).get("/api/openapi.json").json()
    for path in ("/setup/hours", "/setup/labour-rates", "/setup/operations/{code}", "/setup/parts.csv",
                 "/setup/printers/{name}/test-print", "/setup/message-templates/{language}/{template}/{channel}"):
        operations = schema["paths"][f"{API}{path}"]
        assert all(op.get("x-permission") == "setup" for op in operations.values()), path
