"""Manager counter: X/Z reports (own till and store), open/close the day with cash counts, staff and
permissions, product import from CSV/XLSX with a preview and per-row errors.

Each tab is its own module: ``manager_reports`` (reports and the upload to HQ), ``kiosk.charts``
(today's sales by hour, category and till), ``manager_day``
(the business day; it shows the Z report in the reports tab), ``manager_staff`` (staff and
permissions), ``manager_import`` (product import). ``ManagerScreen`` builds the tabs."""

from __future__ import annotations

from collections.abc import Callable

import ttkbootstrap as ttk

from kiosk.charts import ChartsTab
from kiosk.i18n import T
from kiosk.scanner import ScanRouter
from kiosk.screens.manager_coupons import CouponsTab
from kiosk.screens.manager_day import DENOMINATIONS, DayTab
from kiosk.screens.manager_flags import FlagsTab
from kiosk.screens.manager_health import HealthTab
from kiosk.screens.manager_import import ImportTab
from kiosk.screens.manager_oplog import OplogTab
from kiosk.screens.manager_payments import PaymentsTab
from kiosk.screens.manager_prices import PricesTab
from kiosk.screens.manager_replenish import ReorderTab
from kiosk.screens.manager_reports import report_warning, upload_text
from kiosk.screens.manager_staff import StaffTab
from kiosk.screens.manager_stock import StockTab
from kiosk.screens.member_desk import MemberDesk
from kiosk.staff import counter_title
from kiosk.tabbar import TabBar

__all__ = ["ManagerScreen", "DENOMINATIONS", "report_warning", "upload_text"]


class ManagerScreen(DayTab, ChartsTab, StaffTab, ImportTab, FlagsTab, HealthTab, ttk.Frame):
    def __init__(self, parent, app) -> None:
        super().__init__(parent)
        self.app = app
        app.header(self, counter_title("manager"))
        self.tabs = ttk.Notebook(self, padding=6)
        self.tabs.pack(fill="both", expand=True)
        self.reports_tab = ttk.Frame(self.tabs, padding=8)
        self.day_tab = ttk.Frame(self.tabs, padding=8)
        self.staff_tab = ttk.Frame(self.tabs, padding=8)
        self.import_tab = ttk.Frame(self.tabs, padding=8)
        self.charts_tab = ttk.Frame(self.tabs, padding=8)
        self.perm_tab = ttk.Frame(self.tabs, padding=8)
        self.flags_tab = ttk.Frame(self.tabs, padding=8)  # the flags inbox (manager_flags)
        self.health_tab = ttk.Frame(self.tabs, padding=8)  # alerts and figures (manager_health)
        for tab, label in (
            (self.reports_tab, T("Reports")),
            (self.charts_tab, T("Charts")),
            (self.day_tab, T("Business day")),
            (self.staff_tab, T("Staff")),
            (self.perm_tab, T("Permissions")),
            (self.import_tab, T("Product import")),
            (self.flags_tab, T("Flags")),
            (self.health_tab, T("Health")),
        ):
            self.tabs.add(tab, text=label)
        self._reports()
        self._charts()
        self._day()
        self._staff()
        self._permissions()
        self._import()
        self._flags_inbox()
        self.oplog = OplogTab(self.tabs, app)  # the operation log (manager_oplog)
        self.reorder = ReorderTab(self.tabs, app)  # what to order (manager_replenish)
        self.payments = PaymentsTab.for_staff(self.tabs, app)  # to give back, statements
        self._health()
        self.stock = StockTab(self.tabs, app)  # levels, receiving, counts (manager_stock)
        self.prices = PricesTab(self.tabs, app) if app.can("prices.batch") else None  # batch edits
        if app.can("members.desk"):  # the member desk (member_desk), a tab of its own
            self.tabs.add(MemberDesk(self.tabs, app), text=T("Members"))
        if app.can("coupons.issue"):  # issue and print coupons (manager_coupons)
            CouponsTab(self.tabs, app)
        self.tab_bar = TabBar(self, self.tabs)  # all tabs in rows that fit the screen
        self.tab_bar.pack(fill="x", before=self.tabs)
        ScanRouter.install(app, lambda: getattr(app.screen, "on_scan", None))

    @property
    def on_scan(self) -> Callable[[str], None] | None:
        """The open tab's scan (the member desk finds the card scanned wherever the focus is);
        None where the tab takes no scans, so the keys stay where they were typed."""
        try:
            page = self.nametowidget(self.tabs.select())
        except (KeyError, ValueError):
            return None
        return getattr(page, "on_scan", None)
