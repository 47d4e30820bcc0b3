"""The words of reports, calculation sheets and pages, in English and Japanese.

Japanese follows the terms Japanese logistics guidance uses: 輸送トンキロ for transport activity,
排出原単位 for emission intensity, 一次データ for primary data, and the names of the Japanese methods
of the METI/MLIT joint guideline (ロジスティクス分野におけるCO2排出量算定方法 共同ガイドライン Ver.3.2,
2023): 燃料法, 燃費法, 改良トンキロ法, 従来トンキロ法. TCE, TOC, HOC, TTW, WTT and WTW keep their
GLEC abbreviations, as the Green x Digital Consortium's 物流CO2可視化のためのガイドライン (v1.0, 2024) does.
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("en", "ja")

# key -> (English, Japanese)
TERMS: Final[dict[str, tuple[str, str]]] = {
    # titles and frame
    "report_title": ("Transport emissions report", "輸送GHG排出量報告書"),
    "report_subtitle": ("Greenhouse-gas emissions of freight transport and hub operations, per ISO 14083:2023 and the GLEC Framework v3.0",
                        "ISO 14083:2023 およびGLECフレームワーク v3.0 に基づく貨物輸送・物流拠点の温室効果ガス排出量"),
    "sheet_title": ("Calculation sheet", "算定シート"),
    "sheet_subtitle": ("Every transport chain element of one shipment: inputs as read, distance, factor, formula and result",
                       "出荷1件の全輸送チェーン要素（TCE）について、入力値・距離・排出係数・計算式・結果を示します"),
    "entity": ("Reporting entity", "報告主体"),
    "period": ("Reporting period", "報告対象期間"),
    "generated": ("Generated", "作成日時"),
    "prepared_with": ("Prepared with", "算定ツール"),
    "not_stated": ("not stated", "記載なし"),
    "contents": ("Contents", "目次"),
    "none": ("none", "なし"),
    "all": ("all", "すべて"),
    "total": ("Total", "合計"),
    "other": ("other", "その他"),
    "unknown": ("unknown", "不明"),
    "yes": ("yes", "はい"),
    "no": ("no", "いいえ"),
    # key figures
    "key_figures": ("Key figures", "主要指標"),
    "total_wtw": ("Total emissions (WTW)", "総排出量（WTW）"),
    "ttw": ("Operational (TTW)", "運用時（TTW）"),
    "wtt": ("Energy provision (WTT)", "エネルギー供給（WTT）"),
    "wtw": ("Well-to-wheel (WTW)", "Well-to-Wheel（WTW）"),
    "unsplit": ("WTW without a TTW/WTT split", "TTW/WTT内訳のないWTW"),
    "tkm": ("Transport activity", "輸送トンキロ"),
    "intensity": ("Emission intensity (WTW)", "排出原単位（WTW）"),
    "intensity_ttw": ("Operational intensity (TTW)", "運用時排出原単位（TTW）"),
    "shipments": ("Shipments", "出荷件数"),
    "tces": ("Transport chain elements", "輸送チェーン要素（TCE）"),
    "computed": ("computed", "算定済み"),
    "rejected": ("Not computed", "算定不可"),
    "primary_share": ("Primary data share", "一次データ比率"),
    "share_of_wtw": ("Share of WTW", "WTW比率"),
    "share_of_tkm": ("Share of the mode's tkm", "モード内トンキロ比率"),
    "back": ("Back", "戻る"),
    "legs": ("TCEs", "TCE数"),
    # by mode and kind
    "by_mode": ("Emissions by mode", "輸送モード別の排出量"),
    "mode": ("Mode", "輸送モード"),
    "by_kind": ("Transport and hub operations", "輸送と拠点作業"),
    "kind": ("Kind of TCE", "TCEの種類"),
    "transport": ("Transport", "輸送"),
    "hub": ("Hub operations", "拠点作業"),
    "activity": ("Activity", "活動量"),
    "hub_operations": ("Hub operations by category (HOC)", "拠点オペレーションカテゴリー（HOC）別"),
    "hoc": ("Hub operation category", "拠点オペレーションカテゴリー"),
    "outbound_t": ("Outbound freight", "出荷重量"),
    "energy_carrier": ("Energy carrier", "エネルギー種別"),
    "by_energy_carrier": ("Emissions by energy carrier", "エネルギー種別の排出量"),
    "distance_types": ("Distance types", "距離の種類"),
    # data quality
    "data_quality": ("Data quality", "データ品質"),
    "data_type": ("Data type", "データ種別"),
    "data_quality_note": ("Share of WTW emissions by the kind of data behind each figure (ISO 14083:2023 §5.2; GLEC Framework v3.0 p.59).",
                          "各排出量の根拠となったデータの種類別のWTW排出量比率（ISO 14083:2023 5.2節、GLECフレームワーク v3.0 p.59）。"),
    "data_type_by_month": ("Data type share by month", "月別データ種別比率"),
    # groups
    "groups": ("Breakdowns", "内訳"),
    "by": ("By", "別"),
    "customer": ("Customer", "顧客"),
    "lane": ("Lane", "区間"),
    "month": ("Month", "月"),
    "order_id": ("Order", "注文番号"),
    "date": ("Date", "日付"),
    "intensity_by_lane": ("Emission intensity by lane", "区間別の排出原単位"),
    "top_lanes_note": ("The {n} lanes with the most emissions.", "排出量の多い上位{n}区間。"),
    "rows_shown": ("{shown} of {total} rows shown.", "{total}行中{shown}行を表示。"),
    # methodology
    "methodology": ("Methodology", "算定方法"),
    "statement_title": ("Conformity", "準拠"),
    "statement": ("These calculation results have been established in accordance with ISO 14083:2023.",
                  "本算定結果はISO 14083:2023に準拠して算定されています（These calculation results have been established in accordance "
                  "with ISO 14083:2023）。"),
    "no_statement": ("The reporting party has not declared conformity with ISO 14083:2023. The calculation follows the method of "
                     "ISO 14083:2023 and the GLEC Framework v3.0; deviations are listed below.",
                     "報告主体はISO 14083:2023への準拠を宣言していません。算定はISO 14083:2023およびGLECフレームワーク v3.0 "
                     "の方法に従っており、逸脱事項は以下に記載しています。"),
    "packs": ("Factor packs and editions", "排出係数パックと版"),
    "pack": ("Factor pack", "排出係数パック"),
    "edition": ("Edition", "版"),
    "licence": ("Licence", "ライセンス"),
    "distance_basis": ("Distance basis", "距離の根拠"),
    "distance_basis_note": ("Transport activity (tkm) rests on the transport-activity distance; emissions rest on that distance times "
                            "the distance adjustment factor (DAF), which bridges it and the distance the intensity was built on "
                            "(GLEC Framework v3.0 pp.26, 157).",
                            "輸送トンキロは輸送活動距離に基づき、排出量はその距離に距離調整係数（DAF）を乗じた距離に基づきます。"
                            "DAFは輸送活動距離と排出原単位の基準距離の差を補正します（GLECフレームワーク v3.0 pp.26, 157）。"),
    "distance_type": ("Distance type", "距離の種類"),
    "daf": ("Distance adjustment factor (DAF)", "距離調整係数（DAF）"),
    "daf_values": ("DAF applied", "適用したDAF"),
    "allocation": ("Allocation", "配分"),
    "allocation_note": ("A transport leg's emissions are the shipment's transport activity (its actual mass, never chargeable weight, "
                        "times distance) times the intensity of the transport operation category (TOC); a hub's are the shipment's "
                        "outbound mass times the intensity of the hub operation category (HOC); measured fuel of a leg is used as "
                        "given (GLEC Framework v3.0 pp.21–27, 41, 104–106; ISO 14083:2023 §6–7).",
                        "輸送区間の排出量は、出荷の輸送活動量（課金重量ではなく実重量 × 距離）に輸送オペレーションカテゴリー（TOC）"
                        "の排出原単位を乗じて算定します。拠点の排出量は出荷重量に拠点オペレーションカテゴリー（HOC）"
                        "の排出原単位を乗じて算定します。区間の実測燃料量がある場合はそれを用います（GLECフレームワーク v3.0 pp.21–27, "
                        "41, 104–106、ISO 14083:2023 6–7節）。"),
    "assumptions": ("Assumptions", "前提条件"),
    "assumptions_note": ("Defaults the calculation relied on where a row gave no value.",
                         "行に値がなかった項目について算定で用いた既定値。"),
    "exclusions": ("Exclusions and rows not computed", "除外事項と算定できなかった行"),
    "exclusions_note": ("Rows not computed are left out of every total above; their reasons and first lines follow.",
                        "算定できなかった行は上記のすべての合計から除外しています。理由と該当行（先頭から）を示します。"),
    "reason": ("Reason", "理由"),
    "rows": ("Rows", "行数"),
    "lines": ("Lines", "行番号"),
    "line": ("Line", "行"),
    "factors_used": ("Emission factors used", "使用した排出係数"),
    "factor": ("Factor", "排出係数"),
    "source": ("Source", "出典"),
    "page": ("Page", "ページ"),
    "per_unit": ("Per unit", "単位あたり"),
    "unit": ("Unit", "単位"),
    "basis": ("Basis", "基準"),
    "adjustments": ("Adjustments", "補正"),
    "jp_methods": ("Japanese methods", "日本の算定手法"),
    "jp_methods_note": ("CO2 from combustion (TTW) by the methods of the METI/MLIT joint guideline (Ver.3.2, 2023); reported apart and "
                        "never added to the CO2e totals.",
                        "経済産業省・国土交通省「ロジスティクス分野におけるCO2排出量算定方法 共同ガイドライン」（Ver.3.2、2023年）"
                        "の手法による燃焼時CO2（TTW）。CO2e合計とは別に報告し、合算しません。"),
    "method": ("Method", "算定手法"),
    "jp_co2_ttw": ("CO2 (TTW)", "CO2（TTW）"),
    "shipments_table": ("Shipments", "出荷一覧"),
    "shipment": ("Shipment", "出荷"),
    "complete": ("Complete", "全TCE算定済み"),
    "sheet": ("Calculation sheet", "算定シート"),
    # reproducibility
    "reproducibility": ("Reproducibility", "再現性"),
    "project_version": ("logistics-co2 version", "logistics-co2 バージョン"),
    "pack_tables_hash": ("Pack tables (SHA-256)", "係数パック表（SHA-256）"),
    "input_hash": ("Input file (SHA-256)", "入力ファイル（SHA-256）"),
    "results_hash": ("Results file (SHA-256)", "結果ファイル（SHA-256）"),
    "not_available": ("not available", "なし"),
    # calculation sheet
    "tce": ("Transport chain element", "輸送チェーン要素"),
    "inputs_as_read": ("Inputs as read", "読み込んだ入力値"),
    "inputs_used": ("Values used", "算定に用いた値"),
    "distance": ("Distance", "距離"),
    "distance_how": ("How the distance was found", "距離の求め方"),
    "formula": ("Formula", "計算式"),
    "result": ("Result", "結果"),
    "check": ("Recomputed from the figures shown", "表示した数値からの再計算"),
    "check_ok": ("agrees", "一致"),
    "check_bad": ("differs", "不一致"),
    "rounded_note": ("figures read from a CSV file, rounded for people: the check allows for that rounding",
                     "CSVファイルから読み込んだ丸め済みの数値のため、丸めの範囲内で照合しています"),
    "error": ("Not computed", "算定不可"),
    "from_line": ("line {line} of the input file", "入力ファイルの{line}行目"),
    "from_row": ("row {line} of the input", "入力の{line}件目"),
    "actual_given": ("actual distance, as given in the input", "入力値どおりの実走行距離"),
    "given_as": ("{kind}, as given in the input", "入力値どおりの{kind}"),
    "from_places": ("{kind} from {origin} to {destination} ({source})", "{origin}から{destination}までの{kind}（{source}）"),
    "daf_applied": ("× DAF {daf} = {km} km on which the emissions rest", "× DAF {daf} = 排出量の基準距離 {km} km"),
    "back_to_report": ("Back to the report", "報告書に戻る"),
    "fuel_read_as": ("fuel as read: {amount} {unit}", "読み込んだ燃料量: {amount} {unit}"),
}

# Vocabulary values, by column.
VALUES: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "mode": {
        "road": ("road", "道路輸送"),
        "rail": ("rail", "鉄道輸送"),
        "sea": ("sea", "海上輸送"),
        "inland_waterway": ("inland waterway", "内陸水運"),
        "air": ("air", "航空輸送"),
        "hub": ("hub", "物流拠点"),
    },
    "kind": {"transport": ("transport", "輸送"), "hub": ("hub operations", "拠点作業")},
    "data_type": {
        "primary": ("primary", "一次データ"),
        "modelled": ("modelled", "モデルデータ"),
        "default": ("default", "デフォルト値"),
    },
    "distance_type": {
        "actual": ("actual distance", "実走行距離"),
        "sfd": ("shortest feasible distance (SFD)", "最短実行可能距離（SFD）"),
        "gcd": ("great-circle distance (GCD)", "大圏距離（GCD）"),
    },
    "method": {
        "activity": ("activity-based (tkm × TOC intensity)", "活動量ベース（トンキロ × TOC排出原単位）"),
        "toc": ("own TOC intensity", "自社TOC排出原単位"),
        "fuel": ("measured fuel", "実測燃料量"),
        "hub": ("hub (outbound mass × HOC intensity)", "拠点（出荷重量 × HOC排出原単位）"),
        "jp_fuel": ("fuel method (燃料法)", "燃料法"),
        "jp_fuel_economy": ("fuel-economy method (燃費法)", "燃費法"),
        "jp_improved_tonkm": ("improved ton-km method (改良トンキロ法)", "改良トンキロ法"),
        "jp_conventional_tonkm": ("conventional ton-km method (従来トンキロ法)", "従来トンキロ法"),
    },
    "basis": {
        "tkm": ("per tkm", "トンキロあたり"),
        "teu_km": ("per TEU-km", "TEUキロあたり"),
        "fuel": ("per unit of fuel", "燃料単位あたり"),
        "t": ("per outbound t", "出荷トンあたり"),
        "teu": ("per outbound TEU", "出荷TEUあたり"),
    },
}

# Units as people write them.
UNITS: Final[dict[str, tuple[str, str]]] = {
    "t_co2e": ("t CO2e", "t-CO2e"),
    "kg_co2e": ("kg CO2e", "kg-CO2e"),
    "g_per_tkm": ("g CO2e/tkm", "g-CO2e/トンキロ"),
    "kg_per_t": ("kg CO2e/t", "kg-CO2e/t"),
    "tkm": ("tkm", "トンキロ"),
    "t": ("t", "t"),
    "km": ("km", "km"),
    "kg": ("kg", "kg"),
    "t_co2": ("t CO2", "t-CO2"),
    "kg_co2": ("kg CO2", "kg-CO2"),
}


def check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"lang: {lang!r} is not one of {', '.join(LANGUAGES)}")
    return lang


def term(key: str, lang: str = "en", **values) -> str:
    """The words for ``key`` in ``lang``, with ``{name}`` filled from ``values``."""
    text = TERMS[key][LANGUAGES.index(lang)]
    return text.format(**values) if values else text


def value_label(column: str, value, lang: str = "en") -> str:
    """A vocabulary value for people (``sea`` -> 海上輸送); values we have no words for as they are."""
    if value is None:
        return term("unknown", lang)
    words = VALUES.get(column, {}).get(str(value))
    return words[LANGUAGES.index(lang)] if words else str(value)


def unit(key: str, lang: str = "en") -> str:
    return UNITS[key][LANGUAGES.index(lang)]


def column_label(column: str, lang: str = "en") -> str:
    """A grouping column's heading: our words for known ones, ``tag_region`` -> ``region``."""
    if column in TERMS:
        return term(column, lang)
    words = column.removeprefix("tag_").replace("_", " ")
    return words[:1].upper() + words[1:]


def negotiate(accept_language: str | None, default: str = "en") -> str:
    """The language of LANGUAGES a browser prefers most (``Accept-Language``, RFC 9110 §12.5.4)."""
    best, best_q = default, -1.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            name, _, number = p.strip().partition("=")
            if name == "q":
                try:
                    q = float(number)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        # equal weights: the first listed wins
        if primary in LANGUAGES and q > 0 and q - position * 1e-6 > best_q:
            best, best_q = primary, q - position * 1e-6
    return best
