"""`massicot station`: the centre's evening in one local web page (127.0.0.1 only).

Start (paper, roll, scanner), scan (live counts, faults in plain words), check (the anomalies
with their pages and the decisions that fit), the room report, seal and send. One module per
idea: home.py (the station's folder: rolls, lots, who decides tonight), scanning.py (the scan
running in a background thread), sending.py (the queue of sealed lots and its sender),
room.py (the room-report form), app.py (thin routes), serve.py (binding and the browser),
cli.py (the command), words.py (FR/EN). Every action calls the same service as the
`massicot scan ...` / `massicot push` commands (scanner.station, importing, resolve,
room_report, seal, push).

May import massicot_core and the rest of scanner; never correction_server.
"""
