"""Wall boards and the lounge TV, fed by MQTT alone (never the database).

- store.BoardStore: latest retained state per entity; feed.BoardFeed fills it from the bus.
- appointment_board.AppointmentBoardPage, progress_board.ProgressBoardPage (job_board.py: the job progress board,
  also the foreman's /workshop/dispatch): wall screens (paired by token).
- lounge.LoungePage: the customer lounge, from the masked lounge entities only.
Each page is one browser-side Vue component (static/*.js) updated card by card.
"""
