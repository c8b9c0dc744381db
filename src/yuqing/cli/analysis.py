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
    """用本单位人工确认的等级重新训练情感模型；开发集得分不低于现用模型时才启用。"""
    from yuqing.domain.text import to_match_text
    from yuqing.pipeline.analyze.training import retrain_sentiment
    from yuqing.pipeline.run import MODELS_DIR
    from yuqing.standard import load_standard
    from yuqing.store import grades as grade_store

    settings = current_settings()
    data_dir = data or settings.training_data_dir
    if data_dir is None or not data_dir.is_dir():
        raise InputError(
            str(data_dir or "--data"),
            "找不到标注语料目录：请用 --data 或 YUQING_TRAINING_DATA_DIR 指定",
        )
    standard = load_standard(settings.standard_dir, settings.taxonomy)
    negative = [g.code.value for g in standard.grades if g.negative]
    db = open_db(settings)
    with db.session() as session:
        confirmed = grade_store.confirmed_sentiment(session, negative)
    db.dispose()
    extra = [(to_match_text(text), label) for text, label in confirmed]
    result = retrain_sentiment(data_dir, settings.data_dir / MODELS_DIR, extra)
    report = {
        "sentiment": {
            "confirmed_labels": len(extra),
            "rows_used": result.rows_used,
            "old_score": round(result.old_score, 4),
            "new_score": round(result.new_score, 4),
            "accepted": result.accepted,
        }
    }
    if json:
        print_json(report)
        return
    verdict = "已启用新模型" if result.accepted else "新模型得分较低，继续使用原模型"
    out.print(
        f"情感模型：加入人工确认 {len(extra)} 条，开发集宏平均 F1 "
        f"{result.old_score:.4f} → {result.new_score:.4f}，{verdict}。"
    )
