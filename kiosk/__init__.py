"""kassa kiosks: the till (sale, after-sales and manager counters) in ttkbootstrap.

Run ``kassa till --server URL --till ID``. See docs/readme/kiosk.md.
"""
