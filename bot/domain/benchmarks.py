"""Where a program's rates stand against the field's benchmarks."""

from __future__ import annotations

# Klaviyo's SMS conversion-rate benchmarks: campaigns 1.2–2.2%, flows 1.8–2.2%.
CAMPAIGN_BAND = (0.012, 0.022)
FLOW_BAND = (0.018, 0.022)
# Opt-outs per message sent: Klaviyo warns past 0.5%; past 2% a sender is at risk with the carriers.
OPT_OUT_WATCH, OPT_OUT_RISK = 0.005, 0.02


def verdict(rate: float | None, band: tuple[float, float]) -> str | None:
    """below, within or above the band (None without a rate)."""
    if rate is None:
        return None
    return "below" if rate < band[0] else "above" if rate > band[1] else "within"


def opt_out_verdict(rate: float | None) -> str | None:
    """fine, watch (past 0.5%) or at risk (past 2%)."""
    if rate is None:
        return None
    return "at risk" if rate > OPT_OUT_RISK else "watch" if rate > OPT_OUT_WATCH else "fine"
