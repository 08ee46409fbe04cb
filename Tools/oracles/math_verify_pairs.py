"""Answer pairs for checking vpgea's MATH-500 answer comparison against Hugging Face's math-verify: each reference
answer of MATH-500 (the shipped file) against variants a grader meets in practice (the same answer written another
way, or a wrong one), with math-verify's verdict. Prints a JSON list of {id, kind, gold, predicted, verdict}.

Usage: math_verify_pairs.py MATH500.jsonl
"""
import json
import re
import sys

from math_verify import parse, verify


def variants(gold):
    """(kind, predicted) pairs for one reference answer."""
    out = [("same", gold), ("spaces", gold.replace(" ", "")), ("padded", " " + gold.replace(",", ", ") + " ")]
    number = re.fullmatch(r"-?\d+(\.\d+)?", gold)
    frac = re.fullmatch(r"(-?)\\[dt]?frac\{(-?\d+)\}\{(\d+)\}", gold)
    if number:
        value = float(gold)
        out += [("units", gold + "\\text{ cm}"), ("degrees", gold + "^\\circ"), ("percent", gold + "\\%"),
                ("wrong", str(int(value) + 1) if value == int(value) else str(value + 1)),
                ("x-equals", "x = " + gold), ("dollar", "\\$" + gold)]
        if value == int(value) and abs(value) >= 1000:
            out += [("thousands", f"{int(value):,}"), ("thousands-braced", f"{int(value):,}".replace(",", "{,}"))]
        if value == int(value):
            out.append(("decimal-zero", gold + ".0"))
    if frac:
        sign, a, b = frac.groups()
        out += [("slash", f"{sign}{a}/{b}"), ("dfrac", gold.replace("\\frac", "\\dfrac")),
                ("decimal", repr(float(sign + a) / float(b)) if len(repr(float(a) / float(b))) < 8 else "skip"),
                ("wrong-frac", f"{sign}\\frac{{{b}}}{{{a}}}" if a != b else "skip")]
    if "\\frac" in gold and not frac:
        out.append(("dfrac", gold.replace("\\frac", "\\dfrac")))
    if re.fullmatch(r"\\text\{\(?[A-E]\)?\}|\(?[A-E]\)?", gold):
        letter = re.search(r"[A-E]", gold).group(0)
        out += [("letter", letter), ("letter-parens", f"({letter})"), ("letter-text", f"\\text{{({letter})}}"),
                ("wrong-letter", "A" if letter != "A" else "B")]
    if re.fullmatch(r"\([^()]*,[^()]*\)", gold):
        inner = gold[1:-1].split(",")
        out += [("reordered-tuple", "(" + ",".join(reversed(inner)) + ")"), ("left-right", "\\left(" + gold[1:-1] + "\\right)")]
    if re.fullmatch(r"[\[(][^,]+,[^,]+[\])]", gold) and gold[0] != gold[-1]:
        out.append(("x-in-interval", "x \\in " + gold))
    if re.fullmatch(r"\\\{.*\\\}", gold) and "," in gold:
        inner = gold[2:-2].split(",")
        out.append(("reordered-set", "\\{" + ",".join(reversed(inner)) + "\\}"))
    if "\\pi" in gold:
        out.append(("pi-slash", re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", gold)))
    if "\\sqrt" in gold:
        out.append(("sqrt-no-braces", re.sub(r"\\sqrt\{(\d)\}", r"\\sqrt\1", gold)))
    if "," in gold and not re.search(r"[()\[\]{}]", gold):
        parts = [p.strip() for p in gold.split(",")]
        out.append(("reordered-list", ", ".join(reversed(parts))))
    if "\\pm" in gold:
        m = re.fullmatch(r"(.*)\\pm(.*)", gold)
        out.append(("pm-expanded", f"{m.group(1)}+{m.group(2)}, {m.group(1)}-{m.group(2)}"))
    return [(k, p) for k, p in out if p != "skip"]


rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
pairs = []
for i, r in enumerate(rows):
    gold = r["answer"]
    for kind, predicted in variants(gold):
        try:
            verdict = bool(verify(parse("\\boxed{" + gold + "}"), parse("\\boxed{" + predicted + "}")))
        except Exception:
            verdict = False
        pairs.append({"id": f"{i}:{kind}", "kind": kind, "gold": gold, "predicted": predicted, "verdict": verdict})
print(json.dumps(pairs))
