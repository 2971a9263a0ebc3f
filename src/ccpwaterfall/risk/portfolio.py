"""Who holds what: members, affiliate groups, margin accounts and sparse positions.

``PortfolioRows`` is a portfolio as files hold it (id-keyed rows, any order);
``build_portfolio`` turns it into the index arrays the risk code works on.
Every id list is sorted, so the same rows in any order give identical arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse


def _frozen(values: ArrayLike, dtype: type[np.generic]) -> NDArray[np.generic]:
    array = np.array(values, dtype=dtype)  # a copy: the caller keeps theirs
    array.flags.writeable = False
    return array


def _sorted_unique(ids: Sequence[str], what: str) -> tuple[str, ...]:
    if len(set(ids)) != len(ids):
        raise ValueError(f"{what} ids must be unique")
    return tuple(sorted(ids))


def index_of(ids: NDArray[np.str_], keys: tuple[str, ...], what: str) -> NDArray[np.intp]:
    """Position of each of ``ids`` in the sorted ``keys``, shape ``ids.shape``.

    Vectorised lookup (binary search); an id not in ``keys`` is a ``ValueError``.
    """
    table = np.asarray(keys, dtype=str)
    if ids.size == 0:
        return np.zeros(ids.shape, dtype=np.intp)
    if table.size == 0:
        raise ValueError(f"unknown {what} {str(ids.flat[0])!r}")
    found = np.searchsorted(table, ids).astype(np.intp)
    clipped = np.minimum(found, table.size - 1)
    missing = table[clipped] != ids
    if missing.any():
        raise ValueError(f"unknown {what} {str(ids[missing][0])!r}")
    return clipped


@dataclass(frozen=True, slots=True, eq=False)
class PortfolioRows:
    """A portfolio as id-keyed rows in any order (what member, account and position files hold).

    Members and accounts are columns of equal length; ``member_names`` and
    ``member_groups`` hold ``None`` where a member has no name or no group. The
    position columns are arrays of shape (n_positions,): account id, instrument id
    and signed quantity (float64, finite; rows for the same pair are summed).
    """

    member_ids: tuple[str, ...]
    member_names: tuple[str | None, ...]
    member_groups: tuple[str | None, ...]
    account_ids: tuple[str, ...]
    account_members: tuple[str, ...]
    account_is_client: tuple[bool, ...]
    position_accounts: NDArray[np.str_]
    position_instruments: NDArray[np.str_]
    position_quantities: NDArray[np.float64]

    def __post_init__(self) -> None:
        if not len(self.member_ids) == len(self.member_names) == len(self.member_groups):
            raise ValueError("member columns differ in length")
        if not len(self.account_ids) == len(self.account_members) == len(self.account_is_client):
            raise ValueError("account columns differ in length")
        object.__setattr__(self, "position_accounts", _frozen(self.position_accounts, np.str_))
        object.__setattr__(
            self, "position_instruments", _frozen(self.position_instruments, np.str_)
        )
        object.__setattr__(
            self, "position_quantities", _frozen(self.position_quantities, np.float64)
        )
        n = self.position_quantities.shape
        if self.position_accounts.shape != n or self.position_instruments.shape != n:
            raise ValueError("position columns differ in length")
        if len(n) != 1:
            raise ValueError("position columns are one-dimensional")


@dataclass(frozen=True, slots=True, eq=False)
class Portfolio:
    """Members, groups, accounts and positions as index arrays (read-only).

    - ``member_ids`` sorted; ``member_names`` aligned with them (``None`` for none);
    - ``group_ids`` sorted; a member with no group is its own group, named by its id;
    - ``member_group``: shape (n_members,), intp index into ``group_ids``;
    - ``account_ids`` sorted; ``account_member``: shape (n_accounts,), intp index into
      ``member_ids``; ``account_is_client``: shape (n_accounts,), bool (False: house);
    - ``instrument_ids``: the column order of ``positions`` (that of ``Instruments.ids``);
    - ``positions``: ``scipy.sparse.csr_array`` of shape (n_accounts, n_instruments),
      float64 signed quantities, canonical (sorted indices, no duplicates, no stored
      zeros), no NaN.
    """

    member_ids: tuple[str, ...]
    member_names: tuple[str | None, ...]
    member_group: NDArray[np.intp]
    group_ids: tuple[str, ...]
    account_ids: tuple[str, ...]
    account_member: NDArray[np.intp]
    account_is_client: NDArray[np.bool_]
    instrument_ids: tuple[str, ...]
    positions: sparse.csr_array

    def __post_init__(self) -> None:
        n_members, n_accounts = len(self.member_ids), len(self.account_ids)
        if len(self.member_names) != n_members:
            raise ValueError("member_names must align with member_ids")
        for name, dtype, size, bound in (
            ("member_group", np.intp, n_members, len(self.group_ids)),
            ("account_member", np.intp, n_accounts, n_members),
            ("account_is_client", np.bool_, n_accounts, None),
        ):
            array = _frozen(getattr(self, name), dtype)
            if array.shape != (size,):
                raise ValueError(f"{name} has shape {array.shape}, expected ({size},)")
            if bound is not None and size and (array.min() < 0 or array.max() >= bound):
                raise ValueError(f"{name} index out of range")
            object.__setattr__(self, name, array)
        shape = (n_accounts, len(self.instrument_ids))
        positions = sparse.csr_array(self.positions, dtype=np.float64, copy=True)
        if positions.shape != shape:
            raise ValueError(f"positions have shape {positions.shape}, expected {shape}")
        if not np.isfinite(positions.data).all():
            raise ValueError("positions must be finite")
        positions.sum_duplicates()
        positions.eliminate_zeros()
        positions.sort_indices()
        for array in (positions.data, positions.indices, positions.indptr):
            array.flags.writeable = False
        object.__setattr__(self, "positions", positions)

    @property
    def n_members(self) -> int:
        return len(self.member_ids)

    @property
    def n_groups(self) -> int:
        return len(self.group_ids)

    @property
    def n_accounts(self) -> int:
        return len(self.account_ids)

    @property
    def n_instruments(self) -> int:
        return len(self.instrument_ids)

    @property
    def account_group(self) -> NDArray[np.intp]:
        """Shape (n_accounts,): index into ``group_ids`` of each account's member's group."""
        return self.member_group[self.account_member]

    def member_accounts(self) -> sparse.csr_array:
        """Shape (n_members, n_accounts) 0/1 float64 map: sums account rows into members."""
        return _indicator(self.account_member, self.n_members)

    def group_accounts(self) -> sparse.csr_array:
        """Shape (n_groups, n_accounts) 0/1 float64 map: sums account rows into groups."""
        return _indicator(self.account_group, self.n_groups)


def _indicator(owner: NDArray[np.intp], n_owners: int) -> sparse.csr_array:
    n = owner.size
    return sparse.csr_array(
        (np.ones(n), (owner, np.arange(n))), shape=(n_owners, n), dtype=np.float64
    )


def build_portfolio(rows: PortfolioRows, instrument_ids: Sequence[str]) -> Portfolio:
    """The index-array form of ``rows``, positions in the column order ``instrument_ids``.

    Ids are sorted (members, groups, accounts), and position rows are ordered by
    (account, instrument, quantity) before duplicates are summed, so shuffled
    rows give bit-identical arrays. Unknown or duplicate ids and non-finite
    quantities are a ``ValueError``: files are validated, with row numbers,
    before this.
    """
    member_ids = _sorted_unique(rows.member_ids, "member")
    by_member = {m: i for i, m in enumerate(rows.member_ids)}
    member_names = tuple(rows.member_names[by_member[m]] for m in member_ids)
    # A member with no group is its own group, named by its id.
    own_group = tuple(rows.member_groups[by_member[m]] or m for m in member_ids)
    group_ids = tuple(sorted(set(own_group)))
    member_group = index_of(np.asarray(own_group, dtype=str), group_ids, "group")

    account_ids = _sorted_unique(rows.account_ids, "account")
    account_order = np.argsort(np.asarray(rows.account_ids, dtype=str), kind="stable")
    account_member = index_of(
        np.asarray(rows.account_members, dtype=str)[account_order], member_ids, "member"
    )
    account_is_client = np.asarray(rows.account_is_client, dtype=np.bool_)[account_order]

    instruments = tuple(instrument_ids)
    if len(set(instruments)) != len(instruments):
        raise ValueError("instrument ids must be unique")
    instrument_order = np.argsort(np.asarray(instruments, dtype=str), kind="stable")
    sorted_instruments = tuple(np.asarray(instruments, dtype=str)[instrument_order].tolist())
    row = index_of(rows.position_accounts, account_ids, "account")
    col = instrument_order[index_of(rows.position_instruments, sorted_instruments, "instrument")]
    quantity = rows.position_quantities
    if not np.isfinite(quantity).all():
        raise ValueError("position quantities must be finite")
    # Summation order of duplicates follows the row order: fix it.
    order = np.lexsort((quantity, col, row))
    positions = sparse.csr_array(
        sparse.coo_array(
            (quantity[order], (row[order], col[order])),
            shape=(len(account_ids), len(instruments)),
        )
    )
    return Portfolio(
        member_ids=member_ids,
        member_names=member_names,
        member_group=member_group,
        group_ids=group_ids,
        account_ids=account_ids,
        account_member=account_member,
        account_is_client=account_is_client,
        instrument_ids=instruments,
        positions=positions,
    )
