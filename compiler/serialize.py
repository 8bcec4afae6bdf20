"""Deterministic bytes for YAML and JSON artifacts: same data, same bytes, on every machine."""

import json

import yaml

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_Dumper):  # type: ignore[misc, valid-type]
    def ignore_aliases(self, data: object) -> bool:
        # Generated files are read by people: never `&id001` anchors for repeated values.
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Multi-line PromQL reads best as a block; PyYAML falls back to quoting where a block can't hold it.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(data: object, header: str = "") -> bytes:
    """YAML in the key order given (the caller decides it), unicode kept, lines never folded."""
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1 << 16)
    return (header + text).encode()


def to_json(data: object) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
