"""The `rag-faithfulness` template."""

from __future__ import annotations

from launchgate.suites.templates.model import (
    Template,
    TemplateCase,
    TemplateScorer,
    judge,
    none_of,
    regex_config,
)

_FAITHFULNESS_RUBRIC = """\
Grade whether the ANSWER is faithful to the retrieved `context` given in the input, for the \
user's `question`. Judge faithfulness only: do not reward style or length, and do not \
penalise a short answer.
- 1.0: every factual claim in the answer is directly supported by the context; nothing is \
invented. If the context does not contain the answer, the answer says so instead of guessing.
- 0.5: the main claim is supported, but the answer adds minor details, numbers, conditions \
or certainty that the context does not state.
- 0.0: the answer contradicts the context, invents facts, figures, names or sources, or \
answers from general knowledge instead of the context.
Use values in between when the answer falls between two anchors."""

_AI_BOILERPLATE = [
    "As an AI",
    "as a language model",
    "I don't have access to real-time",
    "my training data",
    "my knowledge cutoff",
]

_RAG_CONTEXT = (
    "[1] Returns policy: unused items can be returned within 30 days of delivery for a full "
    "refund to the original payment method.\n"
    "[2] Items bought on clearance sale are final and cannot be returned.\n"
    "[3] Refunds are issued within 5 business days after the returned item is received."
)
_RAG_INPUT = {
    "question": "How long do I have to return an item, and when do I get my money?",
    "context": _RAG_CONTEXT,
}

RAG_FAITHFULNESS = Template(
    slug="rag-faithfulness",
    name="RAG faithfulness",
    description=(
        "For retrieval-augmented answers: an LLM judge checks that every claim is supported "
        "by the retrieved context, and cheap checks require a citation, a sane length and no "
        "AI boilerplate. Send `question` and `context` in the run input."
    ),
    category="quality",
    # The judge weighs 3 of 6: one cheap check may fail, an unfaithful answer may not.
    pass_threshold=0.8,
    scorers=(
        TemplateScorer(
            key="faithfulness",
            name="Faithful to context (judge)",
            type="llm_judge",
            config=judge(_FAITHFULNESS_RUBRIC),
        ),
        TemplateScorer(
            key="no-ai-boilerplate",
            name="No AI boilerplate",
            type="contains",
            config=none_of(_AI_BOILERPLATE),
        ),
        TemplateScorer(
            key="cites-sources",
            name="Cites its sources",
            type="regex",
            config=regex_config(r"\[\d+\]|\baccording to\b", flags="i"),
        ),
        TemplateScorer(
            key="length-bounds",
            name="Between 20 and 2000 characters",
            type="regex",
            config=regex_config(r"^[\s\S]{20,2000}$"),
        ),
    ),
    cases=(
        TemplateCase(
            name="Answer is supported by the context",
            scorer="faithfulness",
            input=_RAG_INPUT,
            threshold=0.7,
            weight=3.0,
        ),
        TemplateCase(
            name="No AI boilerplate", scorer="no-ai-boilerplate", input=_RAG_INPUT, threshold=1.0
        ),
        TemplateCase(
            name="Cites the context ([n] or 'according to')",
            scorer="cites-sources",
            input=_RAG_INPUT,
            threshold=1.0,
        ),
        TemplateCase(
            name="Length between 20 and 2000 characters",
            scorer="length-bounds",
            input=_RAG_INPUT,
            threshold=1.0,
        ),
    ),
)
