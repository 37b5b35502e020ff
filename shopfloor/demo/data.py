"""The demo site's made-up lists: its staff, technicians and their shifts, bays, labour catalogue and part
numbers, and what its customers, cars and visits are drawn from. shopfloor.demo.seed builds the site from them
(the staff, technicians, bays and catalogue through shopfloor.services.site_setup, as a real site would)."""

from __future__ import annotations

from datetime import time

from shopfloor.services.site_setup import Operation, WeeklyShift

ADVISORS = [("A", "张伟"), ("B", "李娜"), ("C", "王芳"), ("D", "刘洋")]
# staff who log in but have no row on the appointment board: (code, name, role)
STAFF = [("M", "赵经理", "manager"), ("S", "孙丽", "cs"), ("P", "钱进", "parts"), ("F", "郑强", "foreman"),
         ("T", "陈刚", "technician"), ("K", "林静", "cashier")]
CS_AGENT = "孙丽"
TECHNICIANS = [("陈刚", "repair"), ("杨帆", "repair"), ("赵磊", "repair"), ("黄强", "repair"),
               ("周杰", "maintenance"), ("吴昊", "maintenance"), ("徐明", "maintenance"), ("孙涛", "maintenance")]
# a technician not named in SHIFTS works DEFAULT_SHIFT
DEFAULT_SHIFT = WeeklyShift(time(8, 30), time(17, 30), 60, (0, 1, 2, 3, 4, 5, 6))
SHIFTS = {"黄强": WeeklyShift(time(8, 30), time(17, 30), 60, (0, 1, 2, 3, 4)),   # Monday to Friday only
          "孙涛": WeeklyShift(time(12, 0), time(20, 0), 60, (0, 1, 2, 3, 4, 5, 6))}  # the late maintenance shift
ON_LEAVE_TOMORROW = ("杨帆", "年假")
HOLIDAY = (10, "店庆闭店日")  # days ahead, name: after the week bars, so they stay full
BAYS = ["1", "2", "3", "4", "5", "6"]
ALIGNMENT_BAYS = ["A1"]
OPERATIONS = [
    Operation("M05", "5000公里保养", "5,000 km service", "0.8", "maintenance", None, 5000),
    Operation("M10", "10000公里保养", "10,000 km service", "1.2", "maintenance", None, 10000),
    Operation("M20", "20000公里保养", "20,000 km service", "1.8", "maintenance", None, 20000),
    Operation("M40", "40000公里保养", "40,000 km service", "2.5", "maintenance", None, 40000),
    Operation("OIL", "更换机油机滤", "Oil and filter change", "0.5", "maintenance", None, None),
    Operation("ACX", "空调系统检查", "A/C system check", "0.8", "maintenance", None, None),
    Operation("WSH", "精洗车", "Full wash", "0.3", "maintenance", None, None),
    Operation("BRK", "更换前刹车片", "Replace front brake pads", "1.5", "repair", None, None),
    Operation("ALN", "四轮定位", "Wheel alignment", "1.0", "repair", "alignment", None),
    Operation("TBT", "更换正时皮带", "Replace timing belt", "3.0", "repair", None, None),
    Operation("DGN", "故障诊断", "Fault diagnosis", "1.0", "repair", None, None),
    Operation("BAT", "更换蓄电池", "Replace battery", "0.5", "repair", None, None),
    # an electric car has no engine oil: its periodic service checks the high-voltage battery, coolant and filters
    Operation("EVS", "纯电车型定期保养", "EV periodic service", "0.8", "maintenance", None, None),
]
# what the walkaround measures for each operation (LabourOperation.measurements): the maintenance packages look at
# tyres and brakes, a brake job at the pads, an alignment at the tyres
MEASURED = {"M05": "tyre_tread,brake_pad", "M10": "tyre_tread,brake_pad", "M20": "tyre_tread,brake_pad",
            "M40": "tyre_tread,brake_pad", "EVS": "tyre_tread,brake_pad", "BRK": "brake_pad", "ALN": "tyre_tread"}
# genuine part numbers the parts counter picks per operation
PARTS = {
    "M05": "04152-YZZA6, 08880-13505",
    "M10": "04152-YZZA6, 08880-13505, 87139-0K060",
    "M20": "04152-YZZA6, 08880-13505, 87139-0K060, 17801-21050",
    "M40": "04152-YZZA6, 08880-13505, 87139-0K060, 17801-21050, 90919-01253",
    "OIL": "04152-YZZA6, 08880-13505",
    "ACX": "87139-0K060",
    "EVS": "87139-0K060",
    "BRK": "04465-02220",
    "TBT": "13568-09130, 13505-0H020",
    "BAT": "28800-0T120",
}
COMPLAINTS = {
    "BRK": "刹车时有异响", "ALN": "方向跑偏，方向盘不正", "TBT": "按保养手册更换正时皮带",
    "DGN": "发动机故障灯亮，怠速抖动", "BAT": "早上启动困难", "ACX": "空调不凉，出风有异味",
}
MAINTENANCE_MIX = [("M05", 3), ("M10", 3), ("M20", 2), ("M40", 1), ("OIL", 2), ("ACX", 1)]
REPAIR_MIX = [("BRK", 3), ("DGN", 3), ("ALN", 2), ("BAT", 2), ("TBT", 1)]
# an electric car: no oil, no timing belt, no engine to diagnose
EV_MAINTENANCE_MIX = [("EVS", 4), ("ACX", 1)]
EV_REPAIR_MIX = [("BRK", 3), ("ALN", 2), ("BAT", 2)]
ENGINE_ONLY = frozenset({"M05", "M10", "M20", "M40", "OIL", "TBT", "DGN"})
FUTURE_APPOINTMENTS = (22, 20, 18, 16, 14, 12)  # tomorrow and the 5 days after
PAST_DAYS = 14
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高",
            "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "欧阳", "司马"]
# given names with the salutation that goes with them (秀英 is addressed 女士, 建国 先生)
GIVEN = [("建国", "先生"), ("秀英", "女士"), ("志强", "先生"), ("丽", "女士"), ("海燕", "女士"), ("俊杰", "先生"),
         ("静", "女士"), ("磊", "先生"), ("敏", "女士"), ("晓明", "先生"), ("婷", "女士"), ("强", "先生"),
         ("芳", "女士"), ("军", "先生"), ("洁", "女士")]
# a Toyota dealer's customers: Toyota, and Lexus (serviced at the same site)
MODELS = [("卡罗拉", "LFMA"), ("凯美瑞", "LVGB"), ("RAV4荣放", "LFMK"), ("汉兰达", "LVGD"), ("雷凌", "LVGC"),
          ("亚洲龙", "LFMJ"), ("bZ4X", "LFMZ"), ("雷克萨斯ES", "JTHB"), ("雷克萨斯RX", "JTJB")]
EV_MODELS = frozenset({"bZ4X"})
PLATE_AREAS = ["京A", "京B", "京N", "京Q", "京E", "冀R", "津C", "京F"]
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
CHANNELS = [("sms", 8), ("wechat", 7), ("phone", 4), ("letter", 1)]
STREETS = ["朝阳区建国路", "朝阳区望京西路", "东城区东四十条", "海淀区中关村大街", "丰台区南三环西路", "通州区新华大街"]
CANCEL_REASONS = ["客户出差，改日再约", "车辆已在外地保养", "客户临时有事", "客户改约到下周"]
RELEASED = ("cancelled", "no_show")
DECLINED = [("客户暂不更换：后刹车片剩余 3 mm", "04466-02150"), ("客户暂不处理：空调滤芯脏污", "87139-0K060")]
