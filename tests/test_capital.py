"""Basel CRE54 / CRR capital for default fund exposures, and a resource stack."""

from __future__ import annotations

import pytest

from ccpwaterfall.risk.capital import (
    crr310_simple,
    k_ccp,
    k_cm,
    resource_stack,
    risk_weighted_assets,
)


def test_k_ccp_and_k_cm_t13() -> None:
    # Worked example on [BASEL-CRE54] (CRE54.29/36): EAD [100, 50, 30, 20], RW 20%, ratio 8%.
    capital = k_ccp([100.0, 50.0, 30.0, 20.0])
    assert capital == pytest.approx(3.2)
    members = k_cm(capital, [8.0, 6.0, 4.0, 2.0], df_ccp=1.0)
    assert members == pytest.approx([1.219047619, 0.914285714, 0.609523810, 0.304761905])
    assert risk_weighted_assets(members) == pytest.approx(
        [15.238095238, 11.428571429, 7.619047619, 3.809523810]
    )
    # ADGM PRU A4.9.16 variant [ADGM-PRU]: capital ratio 10% -> 4.0.
    assert k_ccp([100.0, 50.0, 30.0, 20.0], capital_ratio=0.10) == pytest.approx(4.0)


def test_k_cm_floor_binds_t14() -> None:
    # Worked example on [BASEL-CRE54]: EAD sum 1 -> K_CCP 0.016; 0.016/21 < 0.0016, so
    # K_CM = 8% x 2% x DF_i.
    capital = k_ccp([0.4, 0.3, 0.2, 0.1])
    assert capital == pytest.approx(0.016)
    assert k_cm(capital, [8.0, 6.0, 4.0, 2.0], df_ccp=1.0) == pytest.approx(
        [0.0128, 0.0096, 0.0064, 0.0032]
    )


def test_k_ccp_nets_margin_and_fund_a9() -> None:
    # Worked example on [BASEL-CRE54]: EAD [100, 80, 50], IM [60, 70, 30], DF [10, 5, 8], DF_CCP 5
    # -> K_CCP = (30 + 5 + 12) x 0.016 = 0.752; K_CM [0.268571, 0.134286, 0.214857].
    capital = k_ccp([100.0, 80.0, 50.0], im=[60.0, 70.0, 30.0], df=[10.0, 5.0, 8.0])
    assert capital == pytest.approx(0.752)
    assert k_cm(capital, [10.0, 5.0, 8.0], df_ccp=5.0) == pytest.approx(
        [0.268571, 0.134286, 0.214857], abs=1e-6
    )


def test_k_ccp_never_counts_excess_collateral() -> None:
    # A member over-collateralised by 50 does not offset another's 10 of exposure.
    assert k_ccp([100.0, 10.0], im=[150.0, 0.0]) == pytest.approx(10.0 * 0.016)


def test_k_cm_without_any_fund_is_zero() -> None:
    assert k_cm(1.0, [0.0, 0.0], df_ccp=0.0).tolist() == [0.0, 0.0]


def test_crr310_simple_method_t15_a9() -> None:
    # Worked example on [CRR-310]: TE 1,000, DF 10 -> 11.6; DF 20 -> 16.0 (cap binds).
    assert crr310_simple([1000.0, 1000.0], [10.0, 20.0]) == pytest.approx([11.6, 16.0])
    # [CRR-310]: TE 100, DF 10 -> 0.08 x min(2 + 125, 20) = 1.6.
    assert crr310_simple(100.0, 10.0) == pytest.approx([1.6])


def test_capital_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="ead must be non-negative"):
        k_ccp([-1.0])
    with pytest.raises(ValueError, match=r"im must have shape \(2,\)"):
        k_ccp([1.0, 2.0], im=[1.0])
    with pytest.raises(ValueError, match="NaN"):
        k_cm(1.0, [float("nan")], df_ccp=1.0)
    with pytest.raises(ValueError, match="df_ccp"):
        k_cm(1.0, [1.0], df_ccp=-1.0)


ICE_CLEAR_CREDIT = (("SITG", 50.0), ("default insurance", 75.0), ("guaranty fund", 3326.0))


def test_ice_clear_credit_resource_stack_a8() -> None:
    # [ICE-CLEAR-CREDIT-2023]: ICE Clear Credit at 30 Sep 2023,
    # 50 + 75 + 3,326 = 3,451 ($m).
    small = resource_stack(ICE_CLEAR_CREDIT, 30.0)
    assert small.used == (("SITG", 30.0), ("default insurance", 0.0), ("guaranty fund", 0.0))
    assert small.beyond == 0.0
    medium = resource_stack(ICE_CLEAR_CREDIT, 100.0)
    assert [used for _, used in medium.used] == [50.0, 50.0, 0.0]
    large = resource_stack(ICE_CLEAR_CREDIT, 4000.0)
    assert sum(used for _, used in large.used) == 3451.0
    assert large.beyond == 549.0
    assert resource_stack((), 5.0).beyond == 5.0
