"""Stage `synthesize`: the 2-D sets of the foundations study, made by seed -> data/synthetic/<name>.npz."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from stages import atomic, config, synthetic
from stages.errors import stage_entry


def synthesize(spec: config.FoundationsConfig, out: Path) -> dict:
    """Generate, check and write every synthetic set; return what meta.json records."""
    meta = {"samples": spec.samples, "seed": spec.data_seed, "sets": {}}
    with atomic.staged_dir(out) as staging:
        for name in synthetic.GENERATORS.names:
            noise = spec.moons_noise if name == "moons" else spec.spread
            x, y = synthetic.GENERATORS.get(name)(spec.samples, spec.data_seed, noise)
            x_test, y_test = synthetic.GENERATORS.get(name)(spec.samples, spec.data_seed + 1, noise)  # fresh draw
            synthetic.check(name, x, y, str(out / f"{name}.npz"))
            synthetic.check(name, x_test, y_test, str(out / f"{name}.npz"), training=False)
            np.savez(staging / f"{name}.npz", x=x.astype(np.float64), y=y.astype(np.int64),
                     x_test=x_test.astype(np.float64), y_test=y_test.astype(np.int64))
            meta["sets"][name] = {"rows": len(y), "class_1_share": float(np.mean(y)), "noise": noise}
        atomic.write_json(staging / "meta.json", meta)
    return meta


@stage_entry
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, epilog="Reads params.yaml (foundations.samples, "
                                     "data_seed, spread, moons_noise). Writes OUT/{separable,xor,moons}.npz "
                                     "(x (n, 2), y 0/1, and a fresh test draw x_test, y_test) and OUT/meta.json.")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    meta = synthesize(config.load().foundations, args.out)
    print(f"synthesize: {', '.join(meta['sets'])} ({meta['samples']} points each) -> {args.out}")


if __name__ == "__main__":
    main()
