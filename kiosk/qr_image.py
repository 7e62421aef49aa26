"""A payment QR code as a Tk image, crisp and scannable: whole pixels per module, the 4-module
quiet zone a phone's camera needs, sized to the space it is given. Shown on the till's wait
dialog (``kiosk.screens.pay_wait``) and on the customer window (``qr_overlay``)."""

from __future__ import annotations

from typing import Any

import qrcode
from PIL import Image, ImageTk

__all__ = ["QUIET", "qr_matrix", "qr_pil", "qr_photo", "QrOverlay"]

QUIET = 4  # modules of white around the code (ISO/IEC 18004)


def qr_matrix(text: str) -> list[list[bool]]:
    q = qrcode.QRCode(border=0, box_size=1, error_correction=qrcode.constants.ERROR_CORRECT_M)
    q.add_data(text)
    q.make(fit=True)
    return [list(row) for row in q.get_matrix()]


def qr_pil(text: str, max_px: int) -> Image.Image:
    """The code at the largest whole number of pixels per module that fits ``max_px``."""
    m = qr_matrix(text)
    n = len(m) + 2 * QUIET
    box = max(2, max_px // n)
    img = Image.new("L", (n, n), 255)
    px = img.load()
    assert px is not None
    for y, row in enumerate(m):
        for x, on in enumerate(row):
            if on:
                px[x + QUIET, y + QUIET] = 0
    return img.resize((n * box, n * box), Image.Resampling.NEAREST)


def qr_photo(master: Any, text: str, max_px: int) -> ImageTk.PhotoImage:
    return ImageTk.PhotoImage(qr_pil(text, max_px), master=master)


class QrOverlay:
    """A QR code with a caption laid over a window (the customer's), until ``close``."""

    def __init__(self, window: Any, text: str, caption: str, amount: str) -> None:
        import ttkbootstrap as ttk

        from kiosk.widgets import FitLabel

        window.update_idletasks()
        w, h = max(320, window.winfo_width()), max(240, window.winfo_height())
        self.frame = ttk.Frame(window, padding=12)
        self.frame.place(relx=0, rely=0, relwidth=1, relheight=1)
        font = ("Noto Sans", max(16, h // 20), "bold")
        self.caption = FitLabel(self.frame, font=font, anchor="center", text=caption)
        self.caption.pack(fill="x")
        self.amount = FitLabel(
            self.frame, font=font, anchor="center", text=amount, bootstyle="primary"
        )
        self.amount.pack(fill="x")
        self.photo = qr_photo(window, text, min(w - 24, h - 3 * max(16, h // 20) * 2 - 24))
        self.image = ttk.Label(self.frame, image=self.photo, anchor="center")
        self.image.pack(expand=True)

    def close(self) -> None:
        try:
            self.frame.destroy()
        except Exception:  # the window went first
            pass
