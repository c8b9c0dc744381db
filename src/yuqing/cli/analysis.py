"""Analysis without storage (`analyze`) and retraining models (`train`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer

from yuqing.cli.base import (
    JsonOpt,
    app,
    current_settings,
    fail_cleanly,
    open_db,
    out,
    print_json,
)
from yuqing.errors import InputError


@app.command()
@fail_cleanly
def analyze(
    file: Annotated[str, typer.Argument(help="JSON Lines 文件；“-”或省略表示标准输入。")] = "-",
    subjects: Annotated[
        Path | None,
        typer.Option("--subjects", help="监测主题 JSON：[{name, aliases, exclude, rule}]。"),
    ] = None,
) -> None:
    """分析每行一条的 JSON 信息，逐行输出情感、谣言、攻击性、有害类型、分类和分级（不入库）。"""
    from yuqing.ingest.files import read_jsonl_stream, read_records
    from yuqing.pipeline.analyze.analyzer import Analyzer
    from yuqing.pipeline.contract import ContractAnalyzer, subject_specs
    from yuqing.pipeline.run import MODELS_DIR
    from yuqing.pipeline.subjects import read_subjects_file
    from yuqing.standard import load_standard

    settings = current_settings()
    specs = subject_specs(read_subjects_file(subjects)) if subjects is not None else []
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    contract = ContractAnalyzer(
        settings, standard, Analyzer.load(standard, settings.data_dir / MODELS_DIR), specs
    )
    limit = settings.max_content_chars
    if file == "-":
        records = read_jsonl_stream(sys.stdin.buffer, "stdin", max_field_chars=limit)
    else:
        records = read_records(Path(file), max_field_chars=limit)
    stdout = sys.stdout.buffer
    for results in contract.run(records):
        stdout.write(b"".join(orjson.dumps(r) + b"\n" for r in results))
        stdout.flush()  # a reader of the pipe sees each batch as soon as it is done


@app.command()
@fail_cleanly
def train(
    data: Annotated[
        Path | None,
        typer.Option("--data", help="标注语料目录（默认取 YUQING_TRAINING_DATA_DIR）。"),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """用本单位人工确认的等级和分类重新训练情感、分类模型；得分不低于现用模型时才启用。

    情感模型需要标注语料目录（--data）；分类模型只用本单位确认的分类，与关键词分类交叉验证比较。
    """
    from yuqing.pipeline.analyze.office import train_office_models
    from yuqing.pipeline.run import MODELS_DIR

    settings = current_settings()
    data_dir = data or settings.training_data_dir
    if data is not None and not data.is_dir():
        raise InputError(str(data), "找不到标注语料目录")
    db = open_db(settings)
    try:
        with db.session() as session:
            report = train_office_models(
                session,
                settings,
                data_dir if data_dir is not None and data_dir.is_dir() else None,
                settings.data_dir / MODELS_DIR,
            )
    finally:
        db.dispose()
    if json:
        print_json(report)
        return
    sentiment = report["sentiment"]
    if "skipped" in sentiment:
        out.print(f"情感模型：未训练，{sentiment['skipped']}。")
    else:
        verdict = "已启用新模型" if sentiment["accepted"] else "新模型得分较低，继续使用原模型"
        out.print(
            f"情感模型：加入人工确认 {sentiment['confirmed_labels']} 条，开发集宏平均 F1 "
            f"{sentiment['old_score']:.4f} → {sentiment['new_score']:.4f}，{verdict}。"
        )
    category = report["category"]
    if category["accepted"]:
        out.print(
            f"分类模型：人工确认 {category['confirmed_labels']} 条，交叉验证准确率 "
            f"{category['model_accuracy']:.4f}（关键词 {category['keyword_accuracy']:.4f}），"
            "已启用新模型。"
        )
    else:
        out.print(f"分类模型：未启用，{category['reason']}。")
