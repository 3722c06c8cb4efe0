"""Reference token ids for kindling's WordPiece tokenizer, from Hugging Face `tokenizers` with
all-MiniLM-L6-v2's tokenizer.json (padding off, truncation at 128). Run once in a throwaway venv
(`pip install tokenizers`); output committed as tests/fixtures/minilm_tokenizer_reference.json.

    python minilm_tokenizer_reference.py path/to/tokenizer.json OUT.json
"""
import json
import sys

from tokenizers import Tokenizer

CORPUS = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "Hello, world! How's it going?? (fine)...",
    "Café, naïve façade, Ångström, résumé — déjà vu.",
    "Ünïcödé ÀÉÎÕÜ çñ ß ø æ œ",
    "東京は日本の首都です。北京是中国的首都。",
    "한국어 텍스트와 日本語 mixed with English",
    "Emoji: 😀🎉👍🏽 and ❤️ hearts",
    "Numbers 3.14159, 1,000,000 and 42nd place; 2026-11-28 at 17:05.",
    "URL https://example.com/path?query=1&x=y#frag and email someone@example.org",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "a" * 150,
    "pneumonoultramicroscopicsilicovolcanoconiosis" * 2,
    "",
    "   \t\n  ",
    "tabs\tand\nnewlines\r\nand  double  spaces",
    "control\u0007chars\u200band zero\ufeffwidth",
    "C++ & C# > Java? 50% off! $100 @home #tag ~tilde `code` ^caret |pipe| \\back/",
    "“Smart quotes” and ‘single’ – en dash — em dash … ellipsis",
    "ALL CAPS SHOUTING AND MiXeD CaSe",
    "don't won't can't it's they're",
    "Mr. Smith went to Washington D.C. in the U.S.A.",
    "Ἀθῆναι Москва Αθήνα Київ עברית العربية हिन्दी",
    "word " * 200,
]

tok = Tokenizer.from_file(sys.argv[1])
tok.no_padding()
tok.enable_truncation(128)
out = [{"text": t, "ids": tok.encode(t).ids} for t in CORPUS]
json.dump(out, open(sys.argv[2], "w"), ensure_ascii=False)
print(len(out), "texts")
