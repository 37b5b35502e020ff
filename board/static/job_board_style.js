// The job progress board's stylesheet (job_board.js installs it once per page): self-contained, so the foreman's
// desk, which does not load the wall screens' board.css, draws the same board. Local, no CDN.

export const STYLE = `
.sfj {
  --sfj-head: 510px; --sfj-queue: 310px; --sfj-ink: #0f172a; --sfj-muted: #475569; --sfj-line: #cbd5e1;
  --sfj-navy: #0b2545; --sfj-plan: #dbeafe; --sfj-plan-edge: #2563eb; --sfj-actual: #15803d;
  --sfj-amber: #d97706; --sfj-red: #dc2626; --sfj-now: #e11d48;
  display: flex; flex-direction: column; background: #e9eef4; color: var(--sfj-ink);
  font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; font-variant-numeric: tabular-nums;
}
.sfj.is-editable { width: 100%; height: calc(100vh - 120px); min-height: 560px; cursor: default; user-select: none; }
.sfj.is-editable .sfb-head { display: none; }
.sfj-main { flex: 1; display: flex; min-height: 0; }
.sfj-board { flex: 1; display: flex; flex-direction: column; min-width: 0; background: #fff; }
.sfj-axis { flex: 0 0 44px; display: flex; border-bottom: 2px solid var(--sfj-navy); }
.sfj-rowhead { flex: 0 0 var(--sfj-head); width: var(--sfj-head); display: flex; align-items: center; gap: 4px;
  padding: 0 8px; box-sizing: border-box; border-right: 2px solid var(--sfj-navy); overflow: hidden; }
.sfj-colhead { font-size: 14px; color: var(--sfj-muted); font-weight: 700; }
.sfj-colhead .sfj-fig { font-size: 13px; text-align: center; overflow: visible; }
.sfj-name { flex: 1 1 auto; min-width: 60px; display: flex; align-items: center; gap: 6px; white-space: nowrap; overflow: hidden; }
.sfj-name b { flex: 0 0 auto; font-size: 20px; }
.sfj-skill { flex: 0 1 auto; overflow: hidden; white-space: nowrap; font-style: normal; font-size: 12px; padding: 1px 5px; border-radius: 4px; color: #fff; background: #1e3a5f; }
.sfj-skill.is-repair { background: #5b2a86; }
.sfj-skill-short { display: none; }
.sfj-on { font-style: normal; color: var(--sfj-actual); font-size: 14px; }
.sfj-fig { flex: 0 0 50px; text-align: right; font-size: 16px; white-space: nowrap; }
.sfj-pct { flex: 0 0 80px; text-align: right; font-size: 17px; font-weight: 700; display: flex; flex-direction: column; line-height: 1.05; }
.sfj-colhead .sfj-pct b { font-size: 14px; }
.sfj-colhead .sfj-pct small { font-size: 11px; font-weight: 400; white-space: nowrap; }
.sfj-hours { flex: 1; position: relative; }
.sfj-hour { position: absolute; top: 12px; padding-left: 4px; font-size: 16px; font-weight: 700; color: var(--sfj-navy); border-left: 1px solid #94a3b8; }
.sfj-rows { flex: 1; position: relative; display: flex; flex-direction: column; min-height: 0; }
.sfj-row { flex: 1 1 0; min-height: 0; display: flex; border-bottom: 1px solid var(--sfj-line); }
.sfj-row:nth-child(even) { background: #f8fafc; }
.sfj.is-editable .sfj-row.is-target:hover { background: #ecfdf5; outline: 2px dashed var(--sfj-actual); outline-offset: -2px; cursor: copy; }
.sfj-track { flex: 1; position: relative; overflow: hidden; }
.sfj-gridline { position: absolute; top: 0; bottom: 0; width: 1px; background: #e2e8f0; }
.sfj-grey { position: absolute; top: 0; bottom: 0; }
.sfj-grey.is-off { background: repeating-linear-gradient(135deg, #e2e8f0 0 6px, #eef2f6 6px 12px); }
.sfj-grey.is-break { background: #cbd5e1; }
.sfj-grey.is-leave { background: repeating-linear-gradient(45deg, #cbd5e1 0 5px, #94a3b8 5px 8px); }
.sfj-row { --plan-top: 12%; --plan-h: 56%; }
.sfj-plan { position: absolute; box-sizing: border-box;
  top: calc(var(--plan-top) + var(--plan-h) * var(--lane, 0) / var(--lanes, 1)); height: calc(var(--plan-h) / var(--lanes, 1)); background: var(--sfj-plan);
  border: 2px solid var(--sfj-plan-edge); border-radius: 4px; font-size: 14px; line-height: 1; padding: 2px 4px;
  overflow: hidden; white-space: nowrap; color: #1e3a8a; font-weight: 700; z-index: 1; }
.sfj-plan.is-at_risk { border-color: var(--sfj-amber); background: #fef3c7; color: #92400e; }
.sfj-plan.is-late { border-color: var(--sfj-red); background: #fee2e2; color: #991b1b; }
.sfj-plan.is-done { background: #f1f5f9; border-style: dashed; border-color: #94a3b8; color: #64748b; opacity: .75; z-index: 0; }
.sfj-plan.is-busy { z-index: 2; }
.sfj-plan.is-current { box-shadow: 0 0 0 3px var(--sfj-actual); }
.sfj-plan.is-selected { box-shadow: 0 0 0 3px #0ea5e9; }
.sfj-check { font-style: normal; color: var(--sfj-actual); margin-right: 3px; }
.sfj-cur { font-style: normal; color: var(--sfj-actual); margin-right: 3px; font-size: .8em; }
.sfj-pct.is-capped { color: var(--sfj-amber); text-decoration: underline dotted; cursor: help; }
.sfj-actual { position: absolute; bottom: 10%; height: 30%; background: var(--sfj-actual); border-radius: 3px; z-index: 2; }
.sfj-actual.is-open { background: linear-gradient(90deg, var(--sfj-actual) 85%, #4ade80); }
.sfj-actual.is-assumed { background: repeating-linear-gradient(45deg, #f59e0b 0 6px, #fde68a 6px 12px); }
.sfj.is-editable .sfj-actual.is-assumed { cursor: pointer; }
.sfj.is-editable .sfj-plan, .sfj.is-editable .sfj-card { cursor: grab; }
.sfj-now { position: absolute; top: 0; bottom: 0; width: 3px; margin-left: -1px; background: var(--sfj-now); z-index: 3; pointer-events: none; }
.sfj-now span { position: absolute; top: -17px; left: 4px; font-size: 12px; color: var(--sfj-now); font-weight: 700; background: #fff; padding: 0 2px; }
.sfj-queue { flex: 0 0 var(--sfj-queue); width: var(--sfj-queue); display: flex; flex-direction: column; min-height: 0;
  border-left: 2px solid var(--sfj-navy); background: #f1f5f9; }
.sfj-queue-head { flex: 0 0 44px; display: flex; align-items: center; gap: 8px; padding: 0 12px; font-size: 20px;
  font-weight: 700; background: var(--sfj-navy); color: #fff; }
.sfj-hint { font-size: 13px; color: var(--sfj-muted); padding: 6px 10px 0; }
.sfj-queue-list { flex: 1; overflow-y: auto; padding: 6px; display: flex; flex-direction: column; gap: 6px; }
.sfj-empty { color: var(--sfj-muted); font-size: 16px; padding: 12px; }
.sfj-card { background: #fff; border: 1px solid var(--sfj-line); border-left: 6px solid #64748b; border-radius: 6px;
  padding: 6px 8px; display: flex; flex-direction: column; gap: 2px; }
.sfj-card.is-at_risk { border-left-color: var(--sfj-amber); background: #fffbeb; }
.sfj-card.is-late { border-left-color: var(--sfj-red); background: #fef2f2; }
.sfj-card.is-selected { outline: 3px solid #0ea5e9; }
.sfj-card-top { display: flex; justify-content: space-between; align-items: baseline; }
.sfj-plate { font-size: 20px; font-weight: 800; letter-spacing: 1px; }
.sfj-card-h { font-size: 15px; color: var(--sfj-muted); }
.sfj-card-work { font-size: 15px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.sfj-card-bottom { display: flex; flex-wrap: wrap; gap: 4px; align-items: center; font-size: 14px; }
.sfj-due { color: var(--sfj-muted); margin-right: auto; }
.sfj-due b { color: var(--sfj-ink); }
.sfj-flag { font-size: 13px; padding: 0 5px; border-radius: 9px; color: #fff; background: #475569; }
.sfj-flag.is-carried_over { background: #7c3aed; }
.sfj-flag.is-waiting_customer { background: #0891b2; }
.sfj-flag.is-repeat_repair { background: #b45309; }
.sfj-flag.is-complaint { background: #be123c; }
.sfj-risk { font-size: 13px; padding: 0 6px; border-radius: 4px; color: #fff; font-weight: 700; }
.sfj-risk.is-at_risk { background: var(--sfj-amber); }
.sfj-risk.is-late { background: var(--sfj-red); }
.sfj-propose { margin-top: 4px; padding: 6px; font-size: 15px; border: 0; border-radius: 6px; background: #0ea5e9; color: #fff; cursor: pointer; }
.sfj-foot { flex: 0 0 46px; display: flex; align-items: center; gap: 18px; padding: 0 16px; background: #fff;
  border-top: 1px solid var(--sfj-line); font-size: 17px; color: var(--sfj-muted); white-space: nowrap; overflow: hidden; }
.sfj-foot-title { font-weight: 700; color: var(--sfj-navy); }
.sfj-foot-item b { color: var(--sfj-ink); }
.sfj-legend { display: flex; align-items: center; gap: 5px; font-size: 15px; }
.sfj-legend i { display: inline-block; width: 22px; height: 12px; border-radius: 2px; }
.sfj-key-plan { background: var(--sfj-plan); border: 2px solid var(--sfj-plan-edge); box-sizing: border-box; }
.sfj-key-done { background: #f1f5f9; border: 1px dashed #94a3b8; box-sizing: border-box; color: var(--sfj-actual);
  font-style: normal; font-size: 10px; line-height: 10px; text-align: center; }
.sfj-key-actual { background: var(--sfj-actual); }
.sfj-key-assumed { background: repeating-linear-gradient(45deg, #f59e0b 0 4px, #fde68a 4px 8px); }
.sfj-key-break { background: #cbd5e1; }
.sfj-key-leave { background: repeating-linear-gradient(45deg, #cbd5e1 0 3px, #94a3b8 3px 5px); }
.sfj-tight .sfj-name b { font-size: 16px; }
.sfj-tight .sfj-fig { font-size: 14px; }
.sfj-tight .sfj-pct { font-size: 14px; }
.sfj-tight .sfj-row { --plan-top: 6%; --plan-h: 60%; }
.sfj-tight .sfj-plan { font-size: 11px; border-width: 1px; padding: 1px 2px; }
.sfj-roomy .sfj-name b { font-size: 24px; }
.sfj-roomy .sfj-plan { font-size: 17px; padding: 4px 6px; }
/* bars overlapping on one row: each lane thinner, the plate still readable */
.sfj-row.is-laned { --plan-top: 3%; --plan-h: 64%; }
.sfj .sfj-row.is-laned .sfj-plan { font-size: 12px; padding: 1px 3px; border-width: 1px; line-height: 1.1; }
@media (min-width: 1600px) {
  .sfj-roomy .sfj-row .sfj-fig { font-size: 20px; }
  .sfj-roomy .sfj-row .sfj-pct { font-size: 22px; }
  .sfj-roomy .sfj-name b { font-size: 26px; }
}
@media (max-width: 1500px) {
  /* the skill stays named, short (title: in full); the figure columns keep a gap so their headers never touch */
  .sfj { --sfj-head: 384px; --sfj-queue: 214px; }
  .sfj-rowhead { padding: 0 4px; gap: 5px; }
  .sfj-colhead .sfj-fig { text-align: center; overflow: visible; text-overflow: clip; }
  .sfj-name { gap: 4px; min-width: 0; }
  .sfj-name b, .sfj-roomy .sfj-name b { font-size: 19px; }
  .sfj-skill { padding: 1px 3px; font-size: 11px; }
  .sfj-skill-long { display: none; }
  .sfj-skill-short { display: inline; }
  .sfj-fig { flex-basis: 40px; font-size: 14px; overflow: hidden; text-overflow: ellipsis; }
  .sfj-colhead .sfj-fig { font-size: 11px; }
  .sfj-pct { flex-basis: 68px; font-size: 15px; }
  .sfj-colhead .sfj-pct { overflow: hidden; }
  .sfj-colhead .sfj-pct b { font-size: 12px; }
  /* Chrome keeps CJK text at 12px at least: the formula wraps onto a second line instead of shrinking */
  .sfj-colhead .sfj-pct small { font-size: 10px; white-space: normal; line-height: 1.05; }
  .sfj-hour { font-size: 12px; padding-left: 2px; }
  .sfj-plate { font-size: 17px; }
  .sfj-foot { gap: 8px; padding: 0 10px; font-size: 13px; }
  .sfj-legend { font-size: 12px; gap: 3px; }
  .sfj-legend i { width: 16px; }
}
`;
