"""Risk arrays: scenario P&L, initial margin, stress tests, Cover-N, fund sizing, capital.

Float arrays only (float64 unless a function says otherwise). Axis order is
fixed project-wide: (accounts or members or groups, scenarios). Money leaves
this layer as floats; ``lifecycle`` converts it to exact ``Money`` at one
documented border.
"""
