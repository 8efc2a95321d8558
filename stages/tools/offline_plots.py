"""Build the HTML template that makes `dvc plots show` work offline: vega, vega-lite and vega-embed inlined.

    npm pack vega@5.20.2 vega-lite@5.2.0 vega-embed@6.18.2   # the versions DVC 3.67 loads from a CDN
    python -m stages.tools.offline_plots --packages <folder with the three .tgz> --out .dvc/html

Writes OUT/offline.html (set as `plots.html_template` in .dvc/config) and OUT/licenses/.
"""
from __future__ import annotations

import argparse
import tarfile
from pathlib import Path

from stages.common import atomic

PACKAGES = {"vega": "5.20.2", "vega-lite": "5.2.0", "vega-embed": "6.18.2"}
PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>DVC plots</title>
<!-- vega, vega-lite and vega-embed are inlined so the page draws with no network; their licenses
     are in .dvc/html/licenses/. DVC fills the plots in below; with no scripts placeholder here,
     it adds no CDN script tags. -->
{inline}
<style>
body {{ font-family: sans-serif; margin: 16px; }}
div[id] {{ display: inline-block; vertical-align: top; margin: 0 24px 24px 0; }}
</style>
</head>
<body>
{{plot_divs}}
</body>
</html>
"""


def read_member(archive: Path, name: str) -> str:
    """A text file from an npm package archive (members live under package/)."""
    with tarfile.open(archive) as packed:
        return packed.extractfile(f"package/{name}").read().decode("utf-8")


def build(packages: Path, out: Path) -> None:
    """Write the template and the licenses from the three npm archives."""
    scripts = []
    for name, version in PACKAGES.items():
        archive = packages / f"{name}-{version}.tgz"
        code = read_member(archive, f"build/{name}.min.js")
        if "</script" in code or "{plot_divs}" in code:
            raise ValueError(f"{archive}: cannot be inlined as it is")
        scripts.append(f"<script>/* {name} {version} */\n{code}\n</script>")
        atomic.write_text(out / "licenses" / f"{name}-{version}-LICENSE", read_member(archive, "LICENSE"))
    atomic.write_text(out / "offline.html", PAGE.format(inline="\n".join(scripts)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", type=Path, required=True, help="folder holding the npm pack archives")
    parser.add_argument("--out", type=Path, default=Path(".dvc/html"))
    args = parser.parse_args(argv)
    build(args.packages, args.out)
    print(f"offline plots template -> {args.out / 'offline.html'}")


if __name__ == "__main__":
    main()
