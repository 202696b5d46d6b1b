"""How many input tokens a judge request will cost, without a tokenizer or the network.

The estimate is a heuristic on purpose: exact counts need each provider's own tokenizer
(tiktoken, Anthropic's and Google's count-tokens endpoints), which would mean a download or
a network call before every dry run. About four bytes of UTF-8 per token is what English
BPE text averages; each message adds a few tokens of framing, and a JSON schema sent as the
response format is read as input too. ``dry_run`` answers correct this per model with the
ratio of actual to estimated tokens seen in the organisation's past judge calls (every
judged case stores both), see docs/cost.md.
"""

from __future__ import annotations

import json
import math

from launchgate.providers.schemas import ChatRequest

BYTES_PER_TOKEN = 4.0
TOKENS_PER_MESSAGE = 4  # role and separators around each message
TOKENS_PER_REQUEST = 3  # the priming of the reply


def estimate_text_tokens(text: str) -> int:
    """Tokens of one piece of text: about four UTF-8 bytes each (non-Latin scripts take
    more bytes per character, and more tokens, so bytes track them better than characters)."""
    return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)


def estimate_input_tokens(request: ChatRequest) -> int:
    """The input tokens a provider will count for ``request``: the system prompt and the
    user message with their framing, and the response schema when one is sent."""
    tokens = TOKENS_PER_REQUEST
    for text in (request.system, request.user):
        if text:
            tokens += TOKENS_PER_MESSAGE + estimate_text_tokens(text)
    if request.schema is not None:
        tokens += estimate_text_tokens(json.dumps(request.schema, separators=(",", ":")))
    return tokens
