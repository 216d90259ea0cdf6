"""Per-task query instructions, worded exactly as the reference harnesses word them.

Why a module of its own: the instruction is part of the query text the model sees, and a
one-word difference ("a" vs "an", a missing full stop) moves BRIGHT scores. These strings are
the ones ReasonEmbed was trained and evaluated with:

* `BRIGHT_INSTRUCTIONS` - FlagEmbedding `evaluation/bright/prompts.py`, `BrightShortInstructions`
  (used with `--use_special_instructions True`; METHOD.md §5.1). They equal the `prompt` field
  of the published ReasonEmbed training data.
* `BRIGHT_LONG_INSTRUCTIONS` - the same module's `BrightLongInstructions` (8 long-document tasks;
  note that pony's long wording has no final full stop in the reference, kept as is).
* `R2MED_INSTRUCTIONS` - the eight R2MED tasks (METHOD.md §5.3; Bioinformatics and
  Medical-Sciences follow R2MED's own E5 prompts, "Bioinformatics post" / "Medical Science post").

Queries are formatted by the Embedder as `Instruct: {instruction}\\nQuery: {query}`; documents
never get an instruction.
"""

from __future__ import annotations

_SE = "post, retrieve relevant passages that help answer the post."
_SE_LONG = "post, retrieve relevant documents that help answer the post."

BRIGHT_INSTRUCTIONS: dict[str, str] = {
    # StackExchange
    "biology": f"Given a Biology {_SE}",
    "earth_science": f"Given an Earth Science {_SE}",
    "economics": f"Given an Economics {_SE}",
    "psychology": f"Given a Psychology {_SE}",
    "robotics": f"Given a Robotics {_SE}",
    "stackoverflow": f"Given a Stack Overflow {_SE}",
    "sustainable_living": f"Given a Sustainable Living {_SE}",
    # Coding
    "leetcode": "Given a Coding problem, retrieve relevant examples that help answer the problem.",
    "pony": "Given a Pony question, retrieve relevant passages that help answer the question.",
    # Theorem-based
    "aops": "Given a Math problem, retrieve relevant examples that help answer the problem.",
    "theoremqa_questions": "Given a Math problem, retrieve relevant examples that help answer the problem.",
    "theoremqa_theorems": "Given a Math problem, retrieve relevant theorems that help answer the problem.",
}

BRIGHT_LONG_INSTRUCTIONS: dict[str, str] = {
    "biology": f"Given a Biology {_SE_LONG}",
    "earth_science": f"Given an Earth Science {_SE_LONG}",
    "economics": f"Given an Economics {_SE_LONG}",
    "psychology": f"Given a Psychology {_SE_LONG}",
    "robotics": f"Given a Robotics {_SE_LONG}",
    "stackoverflow": f"Given a Stack Overflow {_SE_LONG}",
    "sustainable_living": f"Given a Sustainable Living {_SE_LONG}",
    "pony": "Given a Pony question, retrieve relevant documents that help answer the question",
}

R2MED_INSTRUCTIONS: dict[str, str] = {
    "Biology": "Given a Biology post, retrieve relevant passages that help answer the post.",
    "Bioinformatics": "Given a Bioinformatics post, retrieve relevant passages that help answer the post.",
    "Medical-Sciences": "Given a Medical Science post, retrieve relevant passages that help answer the post.",
    "MedXpertQA-Exam": "Given a Medical Exam, retrieve relevant passages that help answer the exam.",
    "MedQA-Diag": "Given a Medical Exam, retrieve relevant passages that help answer the exam.",
    "PMC-Treatment": "Given a Clinical Case, retrieve relevant passages that help answer the case.",
    "PMC-Clinical": "Given a Clinical Case, retrieve similar cases that help diagnose the case.",
    "IIYi-Clinical": "Given a Clinical Case, retrieve similar cases that help diagnose the case.",
}


def default_instruction(benchmark: str, task: str, long_documents: bool = False) -> str | None:
    """The reference instruction for `task` of `benchmark` ("bright" or "r2med"), else None.

    A local folder whose task is named like a BRIGHT task (e.g. `.../biology/`) counts as BRIGHT.
    """
    if benchmark == "r2med":
        return R2MED_INSTRUCTIONS.get(task)
    table = BRIGHT_LONG_INSTRUCTIONS if long_documents else BRIGHT_INSTRUCTIONS
    return table.get(task)
