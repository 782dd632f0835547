"""The fixed prompt sets of the tool-calling and default-model benchmarks.

Never edit a prompt to make a model look better: the figures in the README were
measured on exactly these lists. Add new prompts at the end (and say so with the figures).

- :data:`CALCULATOR`: 30 questions a calculator answers; each with the exact value the
  call's expression must evaluate to.
- :data:`SEARCH`: 24 requests to look through past conversations; each with the words
  the call's ``query`` must contain (any one of them, case-insensitive).
- :data:`CONTROL`: 24 messages that need no tool (a call here is a false call).
- :data:`ANSWERS`: 20 short questions with a strict checker for the plain answer (no
  tools), for choosing the default model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["ANSWERS", "CALCULATOR", "CONTROL", "SEARCH", "Answer", "Calc", "Search"]


@dataclass(frozen=True, slots=True)
class Calc:
    """A calculator question and the value its expression must have."""

    prompt: str
    value: float


@dataclass(frozen=True, slots=True)
class Search:
    """A search request and the words (any one) its query must contain."""

    prompt: str
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Answer:
    """A question answered in text: correct when any accepted string appears in it."""

    prompt: str
    accepted: tuple[str, ...]


CALCULATOR: Final = (
    Calc("Use the calculator: what is 1234 * 5678?", 1234 * 5678),
    Calc("What is 12 times 12?", 144),
    Calc("Calculate 347 * 29.", 347 * 29),
    Calc("What is 98765 + 12345?", 98765 + 12345),
    Calc("Compute 2 ** 20.", 2**20),
    Calc("Use the calculator to work out 15% of 840.", 126),
    Calc("How much is 7 * 8 * 9?", 504),
    Calc("What's 1000 - 357?", 643),
    Calc("Please calculate 144 / 12.", 12),
    Calc("Calculate (25 + 17) * 3.", 126),
    Calc("What is the square root of 1764?", 42),
    Calc("Use the calculator: 999 * 999", 998001),
    Calc("What is 81 divided by 9?", 9),
    Calc("Compute 3.5 * 4.2", 14.7),
    Calc("What is 123456 - 65432?", 58024),
    Calc("Calculate 17 squared.", 289),
    Calc("What is 45 + 67 + 89?", 201),
    Calc("Use the calculator: what is 2.5 + 3.75?", 6.25),
    Calc("How much is 640 / 16?", 40),
    Calc("What is 13 * 17?", 221),
    Calc("Calculate 5 factorial as 5 * 4 * 3 * 2 * 1.", 120),
    Calc("What is 10 to the power of 6?", 10**6),
    Calc("Compute 7777 + 2223.", 10000),
    Calc("What is 36 * 36?", 1296),
    Calc("Use the calculator: (100 - 37) / 7", 9),
    Calc("What is 250 * 4 + 17?", 1017),
    Calc("Calculate 1 / 8.", 0.125),
    Calc("What is 19 * 21?", 399),
    Calc("Work out 4096 / 64 with the calculator.", 64),
    Calc("What is 86400 * 7?", 604800),
)

SEARCH: Final = (
    Search("Search my past sessions for docker.", ("docker",)),
    Search("Find the conversation where we talked about postgres.", ("postgres",)),
    Search("Search my previous conversations about kubernetes.", ("kubernetes",)),
    Search("Look through my past sessions for anything about rust lifetimes.", ("rust",)),
    Search("Did we discuss the budget spreadsheet before? Search my sessions.", ("budget",)),
    Search("Search past conversations for 'invoice'.", ("invoice",)),
    Search("Find my earlier session about the wedding plans.", ("wedding",)),
    Search("Search my history for python decorators.", ("decorator", "python")),
    Search("Which of my sessions mentioned nginx? Search them.", ("nginx",)),
    Search("Use search_sessions to find talks about terraform.", ("terraform",)),
    Search("Search my old chats for the word 'migration'.", ("migration",)),
    Search("Find past conversations about my trip to Japan.", ("japan",)),
    Search("Search sessions for redis.", ("redis",)),
    Search("Look up what I said about the garden in earlier sessions.", ("garden",)),
    Search("Search my conversations for 'quarterly report'.", ("quarterly", "report")),
    Search("Find the session where we debugged the login bug.", ("login",)),
    Search("Search previous sessions about sourdough bread.", ("sourdough", "bread")),
    Search("Search my past chats for graphql.", ("graphql",)),
    Search("Find every session that mentions the dentist.", ("dentist",)),
    Search("Search my sessions for notes on linear algebra.", ("linear", "algebra")),
    Search("Look through past conversations for my marathon training plan.", ("marathon",)),
    Search("Search the history for 'API key rotation'.", ("rotation", "api key")),
    Search("Find old sessions about the espresso machine.", ("espresso",)),
    Search("Search my past sessions for the chess openings we covered.", ("chess",)),
)

CONTROL: Final = (
    "Hello, how are you?",
    "Write a haiku about autumn.",
    "What is the capital of France?",
    "Tell me a joke.",
    "Translate 'good morning' into Spanish.",
    "What colour is the sky?",
    "Give me three tips for sleeping better.",
    "Who wrote Romeo and Juliet?",
    "Thanks, that was helpful!",
    "What is a noun?",
    "Describe a cat in one sentence.",
    "Suggest a name for a pet goldfish.",
    "Write a short poem about the sea.",
    "What does HTML stand for?",
    "How do I boil an egg?",
    "What is your name?",
    "Say something nice.",
    "What is the opposite of hot?",
    "Name a fruit that is yellow.",
    "Explain what a verb is.",
    "Good night!",
    "Recommend a book for a long flight.",
    "What language is spoken in Brazil?",
    "Write one sentence about dogs.",
)

ANSWERS: Final = (
    Answer("What is the capital of France?", ("paris",)),
    Answer("What is the capital of Japan?", ("tokyo",)),
    Answer("What is the capital of Italy?", ("rome",)),
    Answer("What colour is a clear daytime sky?", ("blue",)),
    Answer("How many days are in a week?", ("7", "seven")),
    Answer("How many legs does a spider have?", ("8", "eight")),
    Answer("What is the opposite of hot?", ("cold",)),
    Answer("Who wrote Romeo and Juliet?", ("shakespeare",)),
    Answer("What language is spoken in Brazil?", ("portuguese",)),
    Answer("What is the largest planet in the solar system?", ("jupiter",)),
    Answer("What gas do plants take in from the air?", ("carbon dioxide", "co2")),
    Answer("What is H2O commonly called?", ("water",)),
    Answer("How many hours are in a day?", ("24", "twenty-four", "twenty four")),
    Answer("What is the freezing point of water in Celsius?", ("0", "zero")),
    Answer("Which animal is known as the king of the jungle?", ("lion",)),
    Answer("What does HTML stand for?", ("hypertext markup language",)),
    Answer("What is 2 + 2?", ("4", "four")),
    Answer("Translate 'thank you' into French.", ("merci",)),
    Answer("What is the chemical symbol for gold?", ("au",)),
    Answer("How many continents are there?", ("7", "seven")),
)
