"""JUnit XML for CI dashboards: one test suite, a failing test case per finding, a passing one per clean file."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from bnlint.diagnostics import Diagnostic
from bnlint.output import RenderContext


# Characters XML 1.0 cannot hold even escaped (control characters, lone surrogates).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def render(diagnostics: Sequence[Diagnostic], context: RenderContext | None = None) -> str:
    context = context or RenderContext()
    failures = [d for d in diagnostics if d.code.startswith("BN")]
    errors = [d for d in diagnostics if not d.code.startswith("BN")]  # the file could not be linted
    reported = {d.path for d in diagnostics}
    clean = sorted(set(context.files) - reported)
    total = len(diagnostics) + len(clean)
    counts = {"tests": str(total), "failures": str(len(failures)), "errors": str(len(errors)), "skipped": "0"}
    suites = ET.Element("testsuites", name="bnlint", **counts)
    suite = ET.SubElement(suites, "testsuite", name="bnlint", **counts)
    for d in diagnostics:
        path = _xml_text(d.path)
        case = ET.SubElement(suite, "testcase", classname=path,
                             name=f"{d.code} ({d.name}) at {d.line}:{d.column}", file=path, line=str(d.line))
        outcome = ET.SubElement(case, "failure" if d.code.startswith("BN") else "error",
                                message=_xml_text(d.message), type=d.code)
        outcome.text = _xml_text(f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}")
    for path in clean:
        ET.SubElement(suite, "testcase", classname=_xml_text(path), name="bnlint", file=_xml_text(path))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
