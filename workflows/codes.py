"""Coded values (码表) of the institution and personnel records, as the Hubei system offers them in its forms
and Excel drop-downs. Stored values are the Chinese labels themselves, so exports and imports read naturally.
"""

GENDERS = ("男性", "女性")
GENDER_SHORT = {"男性": "男", "女性": "女"}   # the resident ID and older records use the short forms

ETHNICITIES = (
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族", "瑶族",
    "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族", "水族",
    "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族",
    "仡佬族", "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族",
    "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
    "其他", "外国血统中国籍人士",
)

POLITICAL_STATUSES = ("中共党员", "中共预备党员", "共青团员", "民主党派", "无党派人士", "群众")

# 学历, highest first; a major (所学专业) is required from 大学专科 upwards (Hubei §4.2.4 (6))
EDUCATIONS = ("博士研究生", "硕士研究生", "大学本科", "大学专科", "中等专科", "技工学校", "高中", "初中及以下")
EDUCATIONS_NEEDING_MAJOR = frozenset(EDUCATIONS[:4])
DEGREES = ("博士", "硕士", "学士", "无")

TRIAL_WORK_STATUS = "医师资格考试试用期考核人员"
WORK_STATUSES = ("在岗", TRIAL_WORK_STATUS, "返聘", "借调", "援外", "病休", "其他")

STAFF_CATEGORIES = ("卫生技术人员", "乡村医生和卫生员", "其他技术人员", "管理人员", "工勤技能人员")

TITLES = (
    "主任医师", "副主任医师", "主治医师", "医师", "医士",
    "主任药师", "副主任药师", "主管药师", "药师", "药士",
    "主任护师", "副主任护师", "主管护师", "护师", "护士",
    "主任技师", "副主任技师", "主管技师", "技师", "技士",
    "研究员", "副研究员", "助理研究员", "其他", "无",
)

CERTIFICATE_KINDS = ("医师资格证书", "医师执业证书", "护士执业证书", "专业技术资格证书", "药师资格证书", "其他证书")

# 科室(部门)类别; 科室标准名称 is required exactly when the category is 科室(部门) (Hubei §3.2 说明1)
DEPARTMENT_CATEGORIES = ("科室(部门)", "职能部门", "病区", "其他")
CLINICAL_CATEGORY = "科室(部门)"
OTHER_STANDARD_DEPARTMENT = "其他科室"
STANDARD_DEPARTMENTS = (
    "预防保健科", "全科医疗科", "内科", "外科", "妇产科", "妇女保健科", "儿科", "小儿外科", "儿童保健科", "眼科",
    "耳鼻咽喉科", "口腔科", "皮肤科", "医疗美容科", "精神科", "传染科", "结核病科", "地方病科", "肿瘤科",
    "急诊医学科", "康复医学科", "运动医学科", "职业病科", "临终关怀科", "特种医学与军事医学科", "麻醉科",
    "疼痛科", "重症医学科", "医学检验科", "病理科", "医学影像科", "中医科", "民族医学科", "中西医结合科",
    OTHER_STANDARD_DEPARTMENT,
)

# 初始化部门: the template created for an institution that has no departments yet: (name, category, standard name)
DEPARTMENT_TEMPLATE = (
    ("院办公室", "职能部门", None), ("医务科", "职能部门", None), ("护理部", "职能部门", None),
    ("人事科", "职能部门", None), ("财务科", "职能部门", None),
    ("内科", CLINICAL_CATEGORY, "内科"), ("外科", CLINICAL_CATEGORY, "外科"), ("妇产科", CLINICAL_CATEGORY, "妇产科"),
    ("儿科", CLINICAL_CATEGORY, "儿科"), ("急诊科", CLINICAL_CATEGORY, "急诊医学科"),
    ("医学检验科", CLINICAL_CATEGORY, "医学检验科"), ("医学影像科", CLINICAL_CATEGORY, "医学影像科"),
    ("药剂科", "其他", None),
)

# nationwide standard posts (标准岗位), kept as reference data; regions may add their own
STANDARD_POSTS = (
    ("临床医师", "卫生技术人员"), ("中医医师", "卫生技术人员"), ("口腔医师", "卫生技术人员"),
    ("公共卫生医师", "卫生技术人员"), ("护士", "卫生技术人员"), ("药师", "卫生技术人员"),
    ("检验技师", "卫生技术人员"), ("影像技师", "卫生技术人员"), ("其他卫生技术人员", "卫生技术人员"),
    ("其他技术人员", "其他技术人员"), ("管理岗位", "管理人员"), ("工勤技能岗位", "工勤技能人员"),
)

ORG_OWNERSHIPS = ("国有", "集体", "私营", "联营", "股份合作", "中外合资合作", "其他")
ORG_GRADES = ("三级甲等", "三级乙等", "三级", "二级甲等", "二级乙等", "二级", "一级", "未定级")
ORG_ATTACHMENT_KINDS = ("医疗机构执业许可证", "事业单位法人证书", "营业执照", "其他")

TRIAL_EXAM_CATEGORIES = ("临床", "中医", "口腔", "公共卫生")
TRIAL_EXAM_LEVELS = ("执业医师", "执业助理医师")
TRIAL_ASSESSMENTS = ("合格", "不合格", "考核中")
