"""Codes of selling: baskets, scans, products, discounts, payments, wallets, orders, refunds,
money, stock, problem reports and product imports."""

from __future__ import annotations

from domain.error_codes.base import T_BAD_AMOUNT, T_BAD_SETUP, Code
from domain.errors import Conflict, Forbidden, InvalidInput, NotFound

__all__ = [
    "Basket",
    "Scan",
    "Product",
    "Search",
    "Discount",
    "Payment",
    "Wallet",
    "Member",
    "Order",
    "Refund",
    "Money",
    "Amount",
    "Quantity",
    "Tax",
    "Stock",
    "Feedback",
    "Import",
]


class Basket(Code):
    NONE = "basket.none", Conflict, "There is no open basket. Scan an item to start one."
    OPEN = "basket.open", Conflict, "Park or finish the open basket first."
    PARKED = "basket.parked", Conflict, "The basket is parked; resume it first."
    NOT_PARKED = "basket.not_parked", Conflict, "This basket is not parked. Refresh the list."
    NOT_FOUND = (
        "basket.not_found",
        NotFound,
        "There is no such parked basket. Choose one from the list.",
    )
    CLOSED = ("basket.closed", Conflict, "This basket is already paid or voided. Start a new one.")
    EMPTY = "basket.empty", Conflict, "The basket is empty. Scan an item first."
    LINE_NOT_FOUND = (
        "basket.line_not_found",
        NotFound,
        "That line is not in the basket. Select a line in the basket.",
    )
    BAD_QUANTITY = (
        "basket.bad_quantity",
        InvalidInput,
        "That quantity is not valid. Enter a quantity above zero.",
    )
    WEIGHT_REQUIRED = "basket.weight_required", InvalidInput, "Weigh this item."
    EMBEDDED_FIXED = (
        "basket.embedded_fixed",
        Conflict,
        "A labelled item's quantity comes from its label. Scan each label.",
    )


class Scan(Code):
    BAD_CODE = "scan.bad_code", InvalidInput, "Scan a barcode or type a code."
    EMPTY = "scan.empty", InvalidInput, "Nothing was scanned. Scan again."
    ZERO_WEIGHT = (
        "scan.zero_weight",
        InvalidInput,
        "The label shows no weight. Weigh the item again.",
    )


class Product(Code):
    NOT_FOUND = (
        "product.not_found",
        NotFound,
        "No product with this code. Check the code or search by name.",
    )
    NOT_SELLABLE = (
        "product.not_sellable",
        Conflict,
        "This product is not for sale. Call the manager.",
    )
    BAD_BARCODE = (
        "product.bad_barcode",
        InvalidInput,
        "This barcode is not valid. Check its digits.",
    )
    BAD_PLU = "product.bad_plu", InvalidInput, "A PLU has 5 digits."
    BAD_SKU = "product.bad_sku", InvalidInput, "A SKU has 1 to 64 characters."
    BAD_PRICE = "product.bad_price", InvalidInput, "Enter a price of 0 or more."
    BAD_UNIT = "product.bad_unit", InvalidInput, "The unit is 'each' or 'kg'."
    BAD_LOW_STOCK = (
        "product.bad_low_stock",
        InvalidInput,
        "The low-stock level must be a whole number.",
    )
    NO_NAME = "product.no_name", InvalidInput, "A product needs a name."
    BAD_ROW = "product.bad_row", InvalidInput, "A product row is not valid. Check the file."


class Search(Code):
    BAD_QUERY = "search.bad_query", InvalidInput, "Type 1 to 100 characters to search."


class Discount(Code):
    BAD_KIND = "discount.bad_kind", InvalidInput, "Choose a percentage or an amount."
    BAD_VALUE = (
        "discount.bad_value",
        InvalidInput,
        "That discount is not valid. Enter a percentage or an amount.",
    )
    TOO_LARGE = (
        "discount.too_large",
        InvalidInput,
        "The discount is larger than the amount. Enter a smaller discount.",
    )
    OVER_LIMIT = (
        "discount.over_limit",
        Forbidden,
        "This discount needs a manager's approval. Ask a manager to approve it.",
    )


class Payment(Code):
    NONE = "payment.none", InvalidInput, "Enter a payment."
    BAD_TENDER = "payment.bad_tender", InvalidInput, "This payment is not valid. Enter it again."
    BAD_TENDERS = "payment.bad_tenders", InvalidInput, "Use 1 to 10 payments for one basket."
    BAD_KIND = "payment.bad_kind", InvalidInput, "Pay by cash, card or wallet."
    BAD_AMOUNT = "payment.bad_amount", InvalidInput, "Enter an amount."
    CASH_TWICE = "payment.cash_twice", InvalidInput, "Enter cash as one payment."
    CASH_NOT_NEEDED = (
        "payment.cash_not_needed",
        InvalidInput,
        "Nothing is left to pay in cash. Complete the sale.",
    )
    INSUFFICIENT = (
        "payment.insufficient",
        InvalidInput,
        "Not enough cash tendered. Enter the cash received.",
    )
    OVERPAID = (
        "payment.overpaid",
        InvalidInput,
        "Card and wallet are more than the total. Lower the card or wallet amount.",
    )
    UNBALANCED = (
        "payment.unbalanced",
        InvalidInput,
        "The payments do not add up to the total. Check the amounts.",
        (409,),
    )
    NEGATIVE_TOTAL = (
        "payment.negative_total",
        InvalidInput,
        "A sale cannot have a total below zero.",
    )
    NO_MEMBER = "payment.no_member", InvalidInput, "Find the member first."
    NO_REFERENCE = "payment.no_reference", InvalidInput, "Enter the card terminal's reference."
    BAD_LAST4 = ("payment.bad_last4", InvalidInput, "Enter exactly the last 4 digits of the card.")
    CARD_NUMBER_REFUSED = (
        "payment.card_number_refused",
        InvalidInput,
        "Never enter a card number. Enter only its last 4 digits.",
    )


class Wallet(Code):
    BAD_AMOUNT = "wallet.bad_amount", InvalidInput, "Top up an amount above zero."
    INSUFFICIENT_FUNDS = (
        "wallet.insufficient_funds",
        Conflict,
        "The member's wallet does not have enough money. Pay the rest another way.",
    )


class Member(Code):
    NOT_FOUND = (
        "member.not_found",
        NotFound,
        "No member with that card number or phone. Check it, or register the member.",
    )
    EXISTS = "member.exists", Conflict, "This member number is taken. Choose another number."
    CARD_TAKEN = (
        "member.card_taken",
        Conflict,
        "This card belongs to another member. Use another card.",
    )


class Order(Code):
    NOT_FOUND = "order.not_found", NotFound, "No order found. Check the number or the date."
    ALREADY_COMPLETED = (
        "order.already_completed",
        Conflict,
        "This basket is already paid or voided. Start a new one.",
    )
    BAD_TOTAL = (
        "order.bad_total",
        InvalidInput,
        "The basket's totals do not add up. Call the manager.",
    )
    FROZEN = "order.frozen", Conflict, "This order is frozen. A manager must unfreeze it first."
    NOT_FROZEN = "order.not_frozen", Conflict, "This order is not frozen. Nothing to do."
    ALREADY_FROZEN = (
        "order.already_frozen",
        Conflict,
        "This order is frozen already. Nothing to do.",
    )
    REASON_REQUIRED = "order.reason_required", InvalidInput, "Say why the order is frozen."
    # the flags inbox (anomaly flags on orders)
    FLAG_NOT_FOUND = "flag.not_found", NotFound, "No such flag."
    FLAG_NOTE_REQUIRED = (
        "flag.note_required",
        InvalidInput,
        "Write a note saying why it is dismissed.",
    )


class Refund(Code):
    NO_LINES = "refund.no_lines", InvalidInput, "Choose what to refund."
    BAD_QUANTITY = "refund.bad_quantity", InvalidInput, "That refund quantity is not valid."
    LINE_NOT_FOUND = (
        "refund.line_not_found",
        NotFound,
        "That line is not in this order. Find the order again.",
    )
    EXCEEDS_PAID = (
        "refund.exceeds_paid",
        Conflict,
        "Cannot refund more than was paid. Lower the refund.",
    )
    NOTHING_LEFT = (
        "refund.nothing_left",
        Conflict,
        "This order is refunded in full. Nothing more to do.",
    )
    DUPLICATE = "refund.duplicate", Conflict, "This refund was made already. Nothing to do."
    OWN_SALE = (
        "refund.own_sale_needs_manager",
        Forbidden,
        "You sold this order a moment ago. A manager must approve this refund.",
    )


class Money(Code):
    BAD_AMOUNT = "money.bad_amount", InvalidInput, T_BAD_AMOUNT
    NOT_INTEGER = "money.not_integer", InvalidInput, T_BAD_AMOUNT
    FLOAT_REFUSED = "money.float_refused", InvalidInput, T_BAD_AMOUNT
    TOO_PRECISE = "money.too_precise", InvalidInput, "That amount has too many decimals."
    BAD_CURRENCY = "money.bad_currency", InvalidInput, T_BAD_SETUP
    CURRENCY_MISMATCH = (
        "money.currency_mismatch",
        InvalidInput,
        "Amounts in different currencies cannot be mixed. Call the manager.",
    )


class Amount(Code):
    TOO_LARGE = (
        "amount.too_large",
        InvalidInput,
        "That amount is larger than this store allows. Check the amount.",
    )


class Quantity(Code):
    NOT_INTEGER = "quantity.not_integer", InvalidInput, "Enter a whole number."
    TOO_LARGE = (
        "quantity.too_large",
        InvalidInput,
        "That quantity is larger than this store allows. Check the quantity.",
    )


class Tax(Code):
    BAD_RATE = "tax.bad_rate", InvalidInput, "A tax rate is between 0 and 100 %."
    UNKNOWN_CLASS = (
        "tax.unknown_class",
        InvalidInput,
        "This tax class is not set up in this store. Call the manager.",
    )


class Stock(Code):
    BAD_QUANTITY = "stock.bad_quantity", InvalidInput, "That stock quantity is not valid."
    REASON_REQUIRED = "stock.reason_required", InvalidInput, "Say why the stock changes."


class Feedback(Code):
    BAD_KIND = "feedback.bad_kind", InvalidInput, "Choose what kind of problem it is."
    BAD_MESSAGE = (
        "feedback.bad_message",
        InvalidInput,
        "Describe the problem in 1 to 2000 characters.",
    )


class Import(Code):
    DUPLICATE_SKU = "import.duplicate_sku", InvalidInput, "This SKU is on another row too."
