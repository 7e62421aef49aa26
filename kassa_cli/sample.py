"""A generated sample shop: ≥ 2,000 products named in English, Chinese and Thai, members, stock."""

from __future__ import annotations

import random

from domain.catalogue import ean_check_digit

CATEGORIES = [
    # (code, en, zh, th, base price range in satang, tax class, unit)
    ("drinks", "Drinks", "饮料", "เครื่องดื่ม", (1000, 6000), "std", "each"),
    ("snacks", "Snacks", "零食", "ขนม", (1500, 9000), "std", "each"),
    ("dairy", "Dairy", "乳制品", "ผลิตภัณฑ์นม", (2500, 12000), "std", "each"),
    ("bakery", "Bakery", "烘焙", "เบเกอรี่", (2000, 8000), "std", "each"),
    ("produce", "Fruit & veg", "果蔬", "ผักและผลไม้", (3000, 20000), "zero", "kg"),
    ("household", "Household", "日用品", "ของใช้ในบ้าน", (3000, 30000), "std", "each"),
    ("personal", "Personal care", "个人护理", "ของใช้ส่วนตัว", (4000, 35000), "std", "each"),
    ("rice", "Rice & noodles", "米面", "ข้าวและเส้น", (2000, 25000), "std", "each"),
]

ITEMS = {
    "drinks": [
        ("Green tea", "绿茶", "ชาเขียว"),
        ("Orange juice", "橙汁", "น้ำส้ม"),
        ("Cola", "可乐", "โคล่า"),
        ("Mineral water", "矿泉水", "น้ำแร่"),
        ("Coffee", "咖啡", "กาแฟ"),
        ("Soy milk", "豆奶", "นมถั่วเหลือง"),
        ("Lemon soda", "柠檬汽水", "โซดามะนาว"),
        ("Coconut water", "椰子水", "น้ำมะพร้าว"),
    ],
    "snacks": [
        ("Potato chips", "薯片", "มันฝรั่งทอด"),
        ("Seaweed", "海苔", "สาหร่าย"),
        ("Cookies", "饼干", "คุกกี้"),
        ("Chocolate", "巧克力", "ช็อกโกแลต"),
        ("Peanuts", "花生", "ถั่วลิสง"),
        ("Rice crackers", "米饼", "ข้าวเกรียบ"),
    ],
    "dairy": [
        ("Fresh milk", "鲜牛奶", "นมสด"),
        ("Yogurt", "酸奶", "โยเกิร์ต"),
        ("Cheese", "奶酪", "ชีส"),
        ("Butter", "黄油", "เนย"),
    ],
    "bakery": [
        ("White bread", "白面包", "ขนมปังขาว"),
        ("Croissant", "牛角包", "ครัวซองต์"),
        ("Sponge cake", "海绵蛋糕", "เค้กฝอย"),
        ("Egg tart", "蛋挞", "ทาร์ตไข่"),
    ],
    "produce": [
        ("Apples", "苹果", "แอปเปิล"),
        ("Bananas", "香蕉", "กล้วย"),
        ("Mango", "芒果", "มะม่วง"),
        ("Tomatoes", "番茄", "มะเขือเทศ"),
        ("Cabbage", "卷心菜", "กะหล่ำปลี"),
        ("Garlic", "大蒜", "กระเทียม"),
    ],
    "household": [
        ("Dish soap", "洗洁精", "น้ำยาล้างจาน"),
        ("Tissues", "纸巾", "ทิชชู่"),
        ("Laundry powder", "洗衣粉", "ผงซักฟอก"),
        ("Trash bags", "垃圾袋", "ถุงขยะ"),
    ],
    "personal": [
        ("Shampoo", "洗发水", "แชมพู"),
        ("Toothpaste", "牙膏", "ยาสีฟัน"),
        ("Body wash", "沐浴露", "สบู่เหลว"),
        ("Sunscreen", "防晒霜", "ครีมกันแดด"),
    ],
    "rice": [
        ("Jasmine rice", "茉莉香米", "ข้าวหอมมะลิ"),
        ("Instant noodles", "方便面", "บะหมี่กึ่งสำเร็จรูป"),
        ("Rice noodles", "米粉", "เส้นหมี่"),
        ("Glutinous rice", "糯米", "ข้าวเหนียว"),
    ],
}

BRANDS = [
    ("Lotus", "莲花", "โลตัส"),
    ("Golden", "金牌", "โกลเด้น"),
    ("Happy", "开心", "แฮปปี้"),
    ("Siam", "暹罗", "สยาม"),
    ("Panda", "熊猫", "แพนด้า"),
    ("Sunrise", "日出", "ซันไรส์"),
    ("Jade", "翡翠", "หยก"),
    ("Ocean", "海洋", "โอเชียน"),
    ("Royal", "皇家", "รอยัล"),
    ("Fresh", "鲜", "เฟรช"),
    ("Tiger", "老虎", "ไทเกอร์"),
    ("Lucky", "幸运", "ลัคกี้"),
]
SIZES = [
    ("small", "小", "เล็ก"),
    ("medium", "中", "กลาง"),
    ("large", "大", "ใหญ่"),
    ("family", "家庭装", "แฟมิลี่"),
    ("twin pack", "双包装", "แพ็คคู่"),
    ("value pack", "超值装", "แพ็คสุดคุ้ม"),
]


def make_ean13(prefix: str, n: int) -> str:
    body = f"{prefix}{n:0{12 - len(prefix)}d}"
    return body + ean_check_digit(body)


def sample_products(count: int = 2400, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    out: list[dict] = []
    n = 0
    plu = 100
    weighed: set[str] = set()
    while len(out) < count:
        for code, *_cat, (lo, hi), tax, unit in CATEGORIES:
            for en, zh, th in ITEMS[code]:
                for ben, bzh, bth in BRANDS:
                    if len(out) >= count:
                        break
                    if unit == "kg":
                        if f"{ben} {en}" in weighed:
                            continue
                        weighed.add(f"{ben} {en}")
                        plu += 1
                        out.append(
                            {
                                "sku": f"P{plu:05d}",
                                "names": {
                                    "en": f"{ben} {en}",
                                    "zh": f"{bzh}{zh}",
                                    "th": f"{th} {bth}",
                                },
                                "price": rng.randrange(lo, hi, 25),
                                "tax_class": tax,
                                "category": code,
                                "barcodes": [],
                                "unit": "kg",
                                "plu": f"{plu:05d}",
                                "low_stock": 5000 if len(out) < 300 else 0,  # the demo stocks these
                                "favourite": ben in ("Fresh", "Lotus"),  # the till's item grid
                            }
                        )
                        continue
                    sen, szh, sth = SIZES[(n // len(BRANDS)) % len(SIZES)]
                    n += 1
                    out.append(
                        {
                            "sku": f"S{n:06d}",
                            "names": {
                                "en": f"{ben} {en} {sen}",
                                "zh": f"{bzh}{zh}({szh})",
                                "th": f"{th} {bth} {sth}",
                            },
                            "price": rng.randrange(lo, hi, 25),
                            "tax_class": tax,
                            "category": code,
                            "barcodes": [make_ean13("885", n)],
                            "unit": "each",
                            "plu": "",
                            "low_stock": 5 if len(out) < 300 else 0,
                            "favourite": code == "bakery" and ben == "Fresh",
                        }
                    )
        if n > count * 4:  # pragma: no cover - the lists above always suffice
            break
    return out[:count]


MEMBERS = [
    ("M0001", "Somchai P.", "0812345678", "9000000001"),
    ("M0002", "Li Wei", "0823456789", "9000000002"),
    ("M0003", "Aisha K.", "0834567890", "9000000003"),
    ("M0004", "John Smith", "0845678901", "9000000004"),
]
