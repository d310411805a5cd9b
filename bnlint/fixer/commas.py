"""Rebuild a comma-separated sequence (call arguments, list elements) after items come and go.

Each original separator is split in two: what ends the line of the item before
it (its trailing comment) and what leads to the next item (blank lines, comment
lines, indentation). A kept item keeps its own trailing comment, and an item
keeps the lines that led to it, so a comment stays next to the code it is about.
A new item gets the file's separator with no comment on it: the one between two
existing items, or the layout after the opening bracket when there is only one.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Union

import libcst as cst
from libcst import MaybeSentinel

Whitespace = Union[cst.SimpleWhitespace, cst.ParenthesizedWhitespace]


@dataclass(frozen=True)
class Entry:
    node: Any  # cst.Arg or cst.Element, already transformed
    index: int | None  # its position in the original sequence; None for a new item


def _own(ws: Any) -> cst.TrailingWhitespace | None:
    return ws.first_line if isinstance(ws, cst.ParenthesizedWhitespace) else None


def _lead(ws: Any) -> Any:
    """The part of a separator that leads to the next item."""
    if isinstance(ws, cst.ParenthesizedWhitespace):
        return ws.with_changes(first_line=cst.TrailingWhitespace())
    if isinstance(ws, cst.SimpleWhitespace):
        return ws
    return cst.SimpleWhitespace(" ")


def _plain(lead: Any) -> Any:
    """A lead with its comment and blank lines removed (for a new item)."""
    if isinstance(lead, cst.ParenthesizedWhitespace):
        return lead.with_changes(empty_lines=[])
    return lead


def _join(own: cst.TrailingWhitespace | None, lead: Any) -> Whitespace:
    # Without a comment an item's own line end is not worth keeping: the lead says whether a
    # line break follows (a closing bracket on the last item's line stays there, a bracket
    # whose own whitespace starts a new line gets no blank line before it).
    if own is None or own.comment is None:
        return lead
    if isinstance(lead, cst.ParenthesizedWhitespace):
        return lead.with_changes(first_line=own)
    # A trailing comment needs a line break even where the template has none.
    return cst.ParenthesizedWhitespace(first_line=own, indent=True, last_line=cst.SimpleWhitespace(""))


def rebuild(original: Sequence[Any], entries: Sequence[Entry], opening: Any, has_arg_ws: bool) -> list[Any]:
    """The nodes of ``entries`` with commas and whitespace laid out in the sequence's own style.

    ``opening`` is the whitespace after the opening bracket (the layout a lone
    item's neighbours copy); ``has_arg_ws`` is true for call arguments, whose last
    item holds the whitespace before the closing parenthesis.
    """
    n = len(original)
    separators = [item.comma for item in original[:-1] if isinstance(item.comma, cst.Comma)]
    if separators:
        template_before = separators[0].whitespace_before
        template_lead = _plain(_lead(separators[0].whitespace_after))
    else:
        template_before = cst.SimpleWhitespace("")
        template_lead = _plain(_lead(opening)) if isinstance(opening, cst.ParenthesizedWhitespace) \
            else cst.SimpleWhitespace(" ")

    def own_at(index: int) -> cst.TrailingWhitespace | None:
        item = original[index]
        if isinstance(item.comma, cst.Comma):
            return _own(item.comma.whitespace_after)
        if has_arg_ws:
            return _own(item.whitespace_after_arg)
        return None

    kept = {entry.index for entry in entries if entry.index is not None}

    first_kept = min(kept) if kept else None

    def _removed_next_to(index: int) -> list[int]:
        """The removed items right after the kept item at ``index`` (and, for the first one, those before it)."""
        removed = [r for r in range(index) if r not in kept] if index == first_kept else []
        r = index + 1
        while r < n and r not in kept:
            removed.append(r)
            r += 1
        return removed

    def own_of(entry: Entry) -> cst.TrailingWhitespace | None:
        """The item's trailing comment, joined by those of the removed items it stands for: no comment is lost."""
        if entry.index is None:  # a new item: the comment it brings on its own comma (a moved argument's)
            comma = entry.node.comma
            own = _own(comma.whitespace_after) if isinstance(comma, cst.Comma) else None
            return own if own is not None and own.comment is not None else None
        own = own_at(entry.index)
        orphans = [own_at(r) for r in _removed_next_to(entry.index)]
        orphans = [o.comment.value for o in orphans if o is not None and o.comment is not None]
        if not orphans:
            return own
        comments = [own.comment.value] if own is not None and own.comment is not None else []
        comments += orphans
        spacing = own.whitespace if own is not None and own.comment is not None else cst.SimpleWhitespace("  ")
        return cst.TrailingWhitespace(whitespace=spacing,
                                      comment=cst.Comment("  ".join(comments)))

    def lead_to(entry: Entry, previous: Entry | None) -> Any:
        """The lines before ``entry``: its original ones when it had a predecessor, else the template.

        Comment lines that led to a removed item stay, ahead of the item now in its place.
        """
        if entry.index is None or entry.index == 0:
            return template_lead
        before = original[entry.index - 1].comma
        if not isinstance(before, cst.Comma):
            return template_lead
        lead = _lead(before.whitespace_after)
        r = entry.index - 1
        while isinstance(lead, cst.ParenthesizedWhitespace) and r > 0 and r not in kept:
            earlier = original[r - 1].comma
            if not isinstance(earlier, cst.Comma) or not isinstance(earlier.whitespace_after, cst.ParenthesizedWhitespace):
                break
            lead = lead.with_changes(empty_lines=[*earlier.whitespace_after.empty_lines, *lead.empty_lines])
            r -= 1
        return lead

    last = original[-1] if n else None
    trailing = last.comma if last is not None else MaybeSentinel.DEFAULT
    closing_ws = last.whitespace_after_arg if (has_arg_ws and last is not None) else None

    out: list[Any] = []
    for j, entry in enumerate(entries):
        node = entry.node
        following = entries[j + 1] if j + 1 < len(entries) else None
        unchanged_neighbour = following is not None and entry.index is not None and following.index == entry.index + 1
        if following is not None:
            if unchanged_neighbour and isinstance(original[entry.index].comma, cst.Comma) \
                    and own_of(entry) is own_at(entry.index):  # no removed item's comment to take over
                comma = node.comma
            else:
                before = node.comma.whitespace_before if isinstance(node.comma, cst.Comma) else template_before
                comma = cst.Comma(whitespace_before=before, whitespace_after=_join(own_of(entry), lead_to(following, entry)))
            node = node.with_changes(comma=comma)
            if has_arg_ws:
                node = node.with_changes(whitespace_after_arg=cst.SimpleWhitespace(""))
        else:
            if entry.index is not None and entry.index == n - 1:
                pass  # the original last item stays last: untouched
            else:
                own = own_of(entry)
                if isinstance(trailing, cst.Comma):
                    comma = cst.Comma(whitespace_before=trailing.whitespace_before,
                                      whitespace_after=_join(own, _lead(trailing.whitespace_after)))
                    node = node.with_changes(comma=comma)
                    if has_arg_ws:
                        node = node.with_changes(whitespace_after_arg=cst.SimpleWhitespace(""))
                else:
                    node = node.with_changes(comma=MaybeSentinel.DEFAULT)
                    if has_arg_ws:
                        ws = closing_ws if closing_ws is not None else cst.SimpleWhitespace("")
                        node = node.with_changes(whitespace_after_arg=_join(own, _lead(ws)) if own else
                                                 (_lead(ws) if isinstance(ws, cst.ParenthesizedWhitespace) else ws))
        out.append(node)
    return out


def lines_before_new_first(original: Sequence[Any], entries: Sequence[Entry], opening: Any) -> Any:
    """The opening whitespace, plus the comment lines that led to an item that is now first."""
    first = entries[0].index if entries else None
    if not first or not isinstance(opening, cst.ParenthesizedWhitespace):
        return opening
    before = original[first - 1].comma
    if not isinstance(before, cst.Comma) or not isinstance(before.whitespace_after, cst.ParenthesizedWhitespace):
        return opening
    lines = [*opening.empty_lines, *before.whitespace_after.empty_lines]
    if first == len(original) - 1:
        # The last item stays as it was (``rebuild`` leaves it untouched), so the trailing
        # comments of the items removed before it go on lines of their own above it.
        for item in original[:first]:
            own = _own(item.comma.whitespace_after) if isinstance(item.comma, cst.Comma) else None
            if own is not None and own.comment is not None:
                lines.append(cst.EmptyLine(indent=opening.indent, whitespace=opening.last_line, comment=own.comment))
    return opening.with_changes(empty_lines=lines)
