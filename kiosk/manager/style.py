"""The manager pages' stylesheet (the plan board's grid and cards, the capacity strip, the figures' tiles)."""

CSS = """
.mgb { --mgb-line: #e3e7ee; --mgb-hourline: #c9d1dd; user-select: none; width: 100%;
       font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; }
.mgb-axis { display: flex; height: 22px; border-bottom: 1px solid var(--mgb-hourline); }
.mgb-axis-head { width: var(--mgb-rowhead); flex: none; font-size: 12px; color: #5f6b7a; padding-left: 8px; }
.mgb-axis-hours { position: relative; flex: 1; }
.mgb-hour { position: absolute; transform: translateX(-50%); font-size: 12px; color: #43506a; font-weight: 600; }
.mgb-hour.is-first { transform: translateX(2px); }
.mgb-hour.is-last { transform: translateX(calc(-100% - 2px)); }
.mgb-body { position: relative; }
.mgb-row { display: flex; border-bottom: 1px solid var(--mgb-hourline); }
.mgb-row:nth-child(odd) .mgb-track { background: #fafbfd; }
.mgb-row.is-target .mgb-track { background: #eef5ff; }
.mgb-rowhead { width: var(--mgb-rowhead); flex: none; display: flex; align-items: center; gap: 8px; padding: 0 8px;
               border-right: 1px solid var(--mgb-hourline); background: #f3f5f9; }
.mgb-code { width: 30px; height: 30px; border-radius: 50%; background: #1d4f91; color: white; font-weight: 700;
            display: flex; align-items: center; justify-content: center; flex: none; }
.mgb-rowhead-text { display: flex; flex-direction: column; min-width: 0; }
.mgb-rowname { font-size: 15px; font-weight: 700; white-space: nowrap; }
.mgb-rowsub { font-size: 11px; color: #5f6b7a; white-space: nowrap; }
.mgb-track { position: relative; flex: 1; overflow: hidden; }
.mgb-grid { position: absolute; top: 0; bottom: 0; width: 0; border-left: 1px dashed var(--mgb-line); }
.mgb-grid.is-hour { border-left: 1px solid var(--mgb-hourline); }
.mgb-past { position: absolute; left: 0; top: 0; bottom: 0;
            background: repeating-linear-gradient(135deg, rgba(120,130,150,.07) 0 6px, transparent 6px 12px); }
.mgb-now { position: absolute; top: 0; bottom: 0; width: 2px; margin-left: -1px; background: #e53935; z-index: 3; }
.mgb-drop { position: absolute; top: 3px; bottom: 3px; border: 2px dashed #1976d2; border-radius: 6px;
            background: rgba(25,118,210,.08); z-index: 1; pointer-events: none; }
.mgb-drop span { position: absolute; top: -1px; left: 3px; font-size: 12px; font-weight: 700; color: #1976d2; }
.mgb-drop.is-past { border-color: #c62828; background: rgba(198,40,40,.08); }
.mgb-drop.is-past span { color: #c62828; }
.mgb-card { position: absolute; box-sizing: border-box; border-radius: 6px; padding: 3px 6px 3px 8px;
            background: #ffffff; border: 1px solid #b8c4d6; border-left: 5px solid #1d4f91; overflow: hidden;
            font-size: 12px; line-height: 15px; color: #1c2430; box-shadow: 0 1px 2px rgba(0,0,0,.08); z-index: 2;
            transition: box-shadow .15s, opacity .15s; touch-action: none; }
.mgb-card.is-movable { cursor: grab; }
.mgb-card.is-movable:hover { box-shadow: 0 2px 8px rgba(29,79,145,.35); }
.mgb-card.is-confirmed { background: #eaf2ff; }
.mgb-card.is-late { border-left-color: #ef6c00; background: #fff4e5; }
.mgb-card.is-arrived { border-left-color: #2e7d32; background: #edf7ee; }
.mgb-card.is-no_show { border-left-color: #c62828; background: #fdecea; opacity: .8; }
.mgb-card.is-cancelled { border-left-color: #9e9e9e; background: #f2f2f2; opacity: .55; }
.mgb-card.is-cancelled .mgb-plate { text-decoration: line-through; }
.mgb-card.is-pending { outline: 2px dashed #1976d2; opacity: .75; }
.mgb-card.is-dragged { opacity: .3; }
.mgb-card.is-flash { animation: mgb-flash 1.5s ease-out; }
@keyframes mgb-flash { 0%, 40% { box-shadow: 0 0 0 3px #c62828; } 100% { box-shadow: 0 1px 2px rgba(0,0,0,.08); } }
.mgb-ghost { position: fixed; z-index: 9000; pointer-events: none; opacity: .92; cursor: grabbing;
             box-shadow: 0 8px 20px rgba(0,0,0,.3); }
.mgb-l1, .mgb-l2, .mgb-l3, .mgb-l4 { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.mgb-card.has-magnet .mgb-l1 { padding-right: 12px; }
.mgb.is-compact .mgb-card { padding-top: 2px; padding-bottom: 2px; }
.mgb.is-compact .mgb-plate { font-size: 13px; }
.mgb-plate { font-size: 14px; font-weight: 700; letter-spacing: .02em; line-height: 16px; }
.mgb-time { font-weight: 700; color: #1d4f91; }
.mgb-bay { margin-left: 5px; padding: 0 4px; border-radius: 3px; background: #e0e6ef; color: #37475e;
           font-size: 11px; font-weight: 700; }
.mgb.is-roomy .mgb-card { font-size: 13px; line-height: 19px; padding-top: 5px; }
.mgb.is-roomy .mgb-plate { font-size: 16px; }
.mgb-l4 { color: #55606f; }
.mgb-flag { margin-left: 4px; padding: 0 3px; border-radius: 3px; font-size: 10px; font-weight: 700; color: white;
            background: #7b61c9; }
.mgb-flag.is-complaining_customer { background: #c62828; }
.mgb-flag.is-repeat_repair { background: #ad1457; }
.mgb-flag.is-parts_to_order { background: #ef6c00; }
.mgb-flag.is-waiting_customer { background: #00838f; }
.mgb-flag.is-override { background: #6d4c41; }
.mgb-magnet { position: absolute; top: 4px; right: 4px; width: 12px; height: 12px; border-radius: 50%;
              border: 1px solid rgba(0,0,0,.25); }
.mgb-magnet.is-arrived, .mg-swatch.is-arrived { background: #2e7d32; }
.mgb-magnet.is-late, .mg-swatch.is-late { background: #ef6c00; }
.mgb-magnet.is-no_show, .mg-swatch.is-no_show { background: #c62828; }
.mgb-magnet.is-cancelled, .mg-swatch.is-cancelled { background: #9e9e9e; }
.mgb-empty { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
             color: #8a94a3; font-size: 18px; pointer-events: none; }
.mg-swatch { display: inline-block; width: 12px; height: 12px; border-radius: 50%; border: 1px solid rgba(0,0,0,.25);
             vertical-align: -1px; margin-right: 4px; }
.mg-swatch.is-booked { border-radius: 3px; background: #fff; border-left: 4px solid #1d4f91; }
.mg-swatch.is-confirmed { border-radius: 3px; background: #eaf2ff; border-left: 4px solid #1d4f91; }
.mg-bar { position: relative; height: 8px; border-radius: 4px; background: #e3e7ee; overflow: hidden; }
.mg-bar > div { position: absolute; top: 0; bottom: 0; left: 0; border-radius: 4px; background: #1d4f91; }
.mg-bar > div.is-over { background: #c62828; }
.mg-bar > div.is-high { background: #ef6c00; }
.mg-week { display: flex; gap: 8px; align-items: flex-end; height: 100%; }
.mg-day { flex: 1; display: flex; flex-direction: column; align-items: center; gap: 2px; cursor: pointer;
          border-radius: 6px; padding: 2px 0; min-width: 0; }
.mg-day:hover { background: #eef3fa; }
.mg-day.is-selected { background: #dde9fb; outline: 2px solid #1976d2; }
.mg-day.is-past { opacity: .55; cursor: default; }
.mg-day-bar { position: relative; width: 60%; height: 76px; background: #eef1f5; border-radius: 4px 4px 0 0; }
.mg-day-fill { position: absolute; left: 0; right: 0; bottom: 0; background: #1d4f91; border-radius: 4px 4px 0 0; }
.mg-day-fill.is-high { background: #ef6c00; }
.mg-day-fill.is-over { background: #c62828; }
.mg-day-full { position: absolute; left: -4px; right: -4px; height: 0; border-top: 2px solid #37474f; }
.mg-day-reserve { position: absolute; left: -4px; right: -4px; height: 0; border-top: 1px dashed #ef6c00; }
.mg-tile { min-width: 0; }
"""
