"""Selecting a factor row by descriptors: most specific match wins, ties are errors, adjustments
(e.g. region or temperature uplifts) are tried only when nothing matches directly.

Everything here runs on the distinct descriptor combinations of the legs (a few hundred rows for a
file of millions of legs), never on the legs themselves.

Rules, for a leg key and a table row:
- a row cell that is empty matches any leg value; a cell with a value matches only that value
  (cells listing alternatives ``A|B`` are exploded into one candidate per alternative);
- a leg value that is empty matches only empty row cells;
- among matching rows the one with the most non-empty descriptor cells wins; two winners at the
  same specificity are an ambiguity error, never a guess;
- with no direct match, adjustments rewrite one descriptor of the key (``from_value`` ->
  ``to_value``) times a multiplier; adjusted keys are tried with as few adjustments as possible
  (two adjustments on different descriptors compound). ``from_value`` ``*`` rewrites any value of
  the descriptor, an empty one too (a proxy: "a leg in any region may use the UK row").
"""

from __future__ import annotations

import polars as pl

# An adjustment whose from_value is ANY applies to every value of its descriptor, and to none.
ANY = "*"


def explode_alternatives(table: pl.DataFrame, descriptors: tuple[str, ...]) -> pl.DataFrame:
    """One candidate row per combination of ``|``-separated alternatives."""
    for d in descriptors:
        if d in table.columns and table[d].str.contains("|", literal=True).any():
            table = table.with_columns(pl.col(d).str.split("|")).explode(d).with_columns(pl.col(d).str.strip_chars())
    return table


def _match_direct(keys: pl.DataFrame, rows: pl.DataFrame, descriptors: tuple[str, ...], id_col: str) -> pl.DataFrame:
    """For each key (column ``_key``) the best-matching row ids: ``_key, _match, _n_best``."""
    cand = keys.select("_key", *[pl.col(d).alias(f"_k_{d}") for d in descriptors]).join(
        rows.select(id_col, *descriptors, _spec=pl.sum_horizontal(pl.col(d).is_not_null().cast(pl.Int32) for d in descriptors)),
        how="cross",
    )
    ok = pl.all_horizontal(pl.col(d).is_null() | (pl.col(d) == pl.col(f"_k_{d}")).fill_null(False) for d in descriptors)
    cand = cand.filter(ok)
    best = cand.filter(pl.col("_spec") == pl.col("_spec").max().over("_key"))
    return best.group_by("_key").agg(
        pl.col(id_col).sort().first().alias("_match"),
        pl.len().alias("_n_best"),
        pl.col(id_col).sort().head(5).str.join(", ").alias("_tied"),
    )


def _adjust(variants: pl.DataFrame, adj: pl.DataFrame) -> pl.DataFrame:
    """Every variant rewritten by every applicable adjustment (one descriptor each)."""
    out = []
    for d in adj["descriptor"].unique().sort().to_list():
        a = adj.filter(pl.col("descriptor") == d).select(
            "mode", pl.col("vehicle").alias("_adj_vehicle"), "from_value", "to_value", "multiplier", "adjustment_id"
        )
        # from_value "*" rewrites any value, an empty one included (a proxy such as "any region -> UK")
        v = pl.concat([
            variants.join(a.filter(pl.col("from_value") != ANY), left_on=["mode", d], right_on=["mode", "from_value"], how="inner"),
            variants.join(a.filter(pl.col("from_value") == ANY).drop("from_value"), on="mode", how="inner")
            .filter(pl.col(d).is_null() | (pl.col(d) != pl.col("to_value"))),
        ], how="vertical_relaxed")
        v = v.filter(
            (pl.col("_adj_vehicle").is_null() | (pl.col("_adj_vehicle") == pl.col("vehicle")).fill_null(False))
            # the same adjustment is never applied twice
            & ~("+" + pl.col("_adj").fill_null("") + "+").str.contains("+" + pl.col("adjustment_id") + "+", literal=True)
        )
        out.append(
            v.with_columns(
                pl.col("to_value").alias(d),
                pl.col("_mult") * pl.col("multiplier"),
                pl.when(pl.col("_adj").is_null()).then(pl.col("adjustment_id"))
                .otherwise(pl.col("_adj") + "+" + pl.col("adjustment_id")).alias("_adj"),
            ).select(variants.columns)
        )
    return pl.concat(out) if out else variants.clear()


def match_rows(
    keys: pl.DataFrame,
    table: pl.DataFrame,
    descriptors: tuple[str, ...],
    id_col: str,
    adjustments: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Match distinct ``keys`` (columns = descriptors) to rows of ``table``.

    Returns ``keys`` plus ``match_id`` (null when none), ``multiplier`` (1.0 unless adjusted),
    ``adjustment_ids`` (null or ``a+b``) and ``match_error`` (null, or why there is no single match).
    """
    rows = explode_alternatives(table, descriptors)
    keys = keys.with_row_index("_key")
    variants = keys.with_columns(_mult=pl.lit(1.0), _adj=pl.lit(None, pl.String))
    found = _match_direct(variants, rows, descriptors, id_col).join(variants.select("_key", "_mult", "_adj"), on="_key")

    adj = explode_alternatives(adjustments, ("mode", "vehicle")) if adjustments is not None and adjustments.height else None
    level_variants = variants
    if adj is not None:
        for _ in range(adj["descriptor"].n_unique()):
            base = level_variants.filter(~pl.col("_key").is_in(found["_key"].implode()))
            if not base.height:
                break
            level_variants = _adjust(base, adj)
            if not level_variants.height:
                break
            vid = level_variants.with_row_index("_vid")
            m = _match_direct(vid.select(pl.col("_vid").alias("_key"), *descriptors), rows, descriptors, id_col)
            m = m.join(vid.select(pl.col("_vid").alias("_key"), pl.col("_key").alias("_orig"), "_mult", "_adj"), on="_key")
            # Two variants of one key may reach the same row by different paths (fine) or different
            # rows (ambiguous).
            m = m.group_by("_orig").agg(
                pl.col("_match").first(),
                pl.max_horizontal(pl.col("_n_best").max(), pl.col("_match").n_unique()).cast(pl.UInt32).alias("_n_best"),
                pl.col("_match").unique().sort().head(5).str.join(", ").alias("_tied"),
                pl.col("_mult").first(),
                pl.col("_adj").first(),
            )
            found = pl.concat([found, m.rename({"_orig": "_key"}).select(found.columns)], how="vertical_relaxed")

    out = keys.join(found, on="_key", how="left")
    return out.select(
        *keys.columns,
        pl.when(pl.col("_n_best") == 1).then(pl.col("_match")).alias("match_id"),
        pl.col("_mult").fill_null(1.0).alias("multiplier"),
        pl.col("_adj").alias("adjustment_ids"),
        pl.when(pl.col("_match").is_null()).then(pl.lit("no match"))
        .when(pl.col("_n_best") > 1).then(pl.format("ambiguous: rows {} match equally", pl.col("_tied")))
        .alias("match_error"),
    ).drop("_key")
