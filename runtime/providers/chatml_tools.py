"""A ChatML chat template with tool calls, for GGUF models whose own template has none.

SmolLM2 (and most small ChatML models) ship a template that ignores ``tools``, so
llama.cpp offers them no tool calls. This template lists the tools in the system
message and writes calls as ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``;
llama.cpp's template analysis recognises that shape and constrains the call's JSON to
the tool's schema with a grammar. :data:`TOOL_CALL_OPEN` started as the answer forces a
call (``tool_choice`` ``required`` or a named function).

Selected with ``TURNKEEP_AGENT__CHAT_FORMAT=chatml-function-calling`` (the name the
setting has always used for tool calls on the local provider).
"""

from __future__ import annotations

from typing import Final

__all__ = ["CHATML_TOOLS_TEMPLATE", "TOOL_CALL_OPEN"]

TOOL_CALL_OPEN: Final = "<tool_call>"

CHATML_TOOLS_TEMPLATE: Final = """\
{%- set has_system = messages and messages[0].role == 'system' -%}
{%- if tools -%}
<|im_start|>system
{% if has_system %}{{ messages[0].content }}

{% endif %}You can call tools. To call one, answer with \
<tool_call>{"name": "<tool name>", "arguments": {<arguments as JSON>}}</tool_call>
Tools:
{%- for tool in tools %}
{{ tool | tojson }}
{%- endfor %}<|im_end|>
{% elif not has_system -%}
<|im_start|>system
You are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>
{% endif -%}
{%- for message in messages -%}
{%- if message.role == 'system' and tools and loop.first -%}
{%- elif message.role == 'tool' -%}
<|im_start|>user
<tool_response>
{{ message.content }}
</tool_response><|im_end|>
{% elif message.role == 'assistant' and message.tool_calls -%}
<|im_start|>assistant
{% if message.content %}{{ message.content }}
{% endif -%}
{%- for call in message.tool_calls -%}
<tool_call>{"name": "{{ call.function.name }}", "arguments": \
{% if call.function.arguments is string %}{{ call.function.arguments }}\
{% else %}{{ call.function.arguments | tojson }}{% endif %}}</tool_call>
{% endfor -%}
<|im_end|>
{% else -%}
<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
<|im_start|>assistant
{% endif -%}
"""
