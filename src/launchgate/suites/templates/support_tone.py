"""The `support-tone` template."""

from __future__ import annotations

from launchgate.suites.templates.model import (
    Template,
    TemplateCase,
    TemplateScorer,
    any_of,
    judge,
    none_of,
    regex_config,
)

_TONE_RUBRIC = """\
Grade the tone of the ANSWER, a customer-support reply to the `customer_message` in the input.
- 1.0: warm and respectful; acknowledges the customer's frustration in specific terms; takes \
ownership without blaming the customer; explains clearly what happens next (a concrete step \
or timeframe); professional and concise, with no sarcasm or canned filler.
- 0.5: polite but generic or robotic; the empathy is boilerplate, or the next step is vague, \
or the reply is padded.
- 0.0: dismissive, defensive, condescending or rude; blames the customer; shouts; or ignores \
the problem altogether.
Judge tone and empathy only, not factual accuracy. Use values in between when the answer \
falls between two anchors."""

_ACKNOWLEDGEMENTS = [
    "sorry",
    "apologize",
    "apologise",
    "apologies",
    "I understand",
    "frustrating",
    "thank you for",
    "thanks for",
]
_BLAME = [
    "your fault",
    "you should have",
    "you failed to",
    "as I already said",
    "as stated before",
    "calm down",
    "you need to read",
]
# Three all-caps words in a row, or "!!". Lone acronyms (FAQ, ASAP) are not shouting.
_SHOUTING = r"\b[A-Z]{2,}(?:[^\w\n]+[A-Z]{2,}){2,}\b|!{2,}"

_TONE_INPUT = {
    "customer_message": (
        "I've been charged twice for order #58213 and nobody has answered my emails for a "
        "week. This is ridiculous."
    ),
}

SUPPORT_TONE = Template(
    slug="support-tone",
    name="Support tone",
    description=(
        "For customer-support replies: an LLM judge grades empathy and professionalism, and "
        "cheap checks require an acknowledgement, forbid blaming the customer or shouting, "
        "and keep the reply concise. Send `customer_message` in the run input."
    ),
    category="tone",
    pass_threshold=0.8,
    scorers=(
        TemplateScorer(
            key="tone-judge",
            name="Empathetic, professional tone (judge)",
            type="llm_judge",
            config=judge(_TONE_RUBRIC),
        ),
        TemplateScorer(
            key="acknowledges",
            name="Acknowledges the customer",
            type="contains",
            config=any_of(_ACKNOWLEDGEMENTS),
        ),
        TemplateScorer(
            key="no-blame",
            name="No blaming or condescension",
            type="contains",
            config=none_of(_BLAME),
        ),
        TemplateScorer(
            key="no-shouting",
            name="No ALL-CAPS shouting",
            type="regex",
            config=regex_config(_SHOUTING, should_match=False),
        ),
        TemplateScorer(
            key="concise",
            name="At most 1200 characters",
            type="regex",
            config=regex_config(r"^[\s\S]{1,1200}$"),
        ),
    ),
    cases=(
        TemplateCase(
            name="Empathetic, professional tone",
            scorer="tone-judge",
            input=_TONE_INPUT,
            threshold=0.7,
            weight=2.0,
        ),
        TemplateCase(
            name="Acknowledges the customer",
            scorer="acknowledges",
            input=_TONE_INPUT,
            threshold=1.0,
        ),
        TemplateCase(
            name="No blaming or condescension", scorer="no-blame", input=_TONE_INPUT, threshold=1.0
        ),
        TemplateCase(
            name="No ALL-CAPS shouting", scorer="no-shouting", input=_TONE_INPUT, threshold=1.0
        ),
        TemplateCase(
            name="At most 1200 characters", scorer="concise", input=_TONE_INPUT, threshold=1.0
        ),
    ),
)
