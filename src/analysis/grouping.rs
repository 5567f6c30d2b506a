//! How runs are grouped and named in a report, shared by the regression summaries
//! ([`super::aggregate`]) and the classification section ([`super::class_summary`]): groups and
//! distinct values in order of first appearance (so task ids follow the report order), the
//! seeds of a configuration split by outcome, and configuration ids.

/// The distinct values of `items`, in order of first appearance.
pub fn distinct_in_order<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for x in items {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// `items` grouped by `key`: groups in order of first appearance, members in their order.
pub fn group_in_order<T, K: PartialEq>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> Vec<(K, Vec<T>)> {
    let mut groups: Vec<(K, Vec<T>)> = Vec::new();
    for x in items {
        let k = key(&x);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, members)) => members.push(x),
            None => groups.push((k, vec![x])),
        }
    }
    groups
}

/// The seeds of one configuration from its runs' `(seed, diverged)`: the completed seeds and
/// the diverged seeds, each sorted.
pub fn seeds_by_outcome(runs: impl IntoIterator<Item = (u64, bool)>) -> (Vec<u64>, Vec<u64>) {
    let (diverged, completed): (Vec<_>, Vec<_>) = runs.into_iter().partition(|&(_, d)| d);
    let sorted = |v: Vec<(u64, bool)>| {
        let mut seeds: Vec<u64> = v.into_iter().map(|(s, _)| s).collect();
        seeds.sort_unstable();
        seeds
    };
    (sorted(completed), sorted(diverged))
}

/// A configuration's id: "c" + 6 hex digits of a hash of its key (run.json `config` without
/// seed and name, as canonical JSON), stable across windows, orderings and subsets of runs.
pub fn config_id(key: &str) -> String {
    format!(
        "c{:06x}",
        crate::base::hash::fnv1a(key.as_bytes()) & 0xff_ffff
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_values_keep_the_order_of_first_appearance() {
        assert_eq!(
            distinct_in_order(["t2", "t1", "t2", "t3"]),
            ["t2", "t1", "t3"]
        );
        let groups = group_in_order([3, 4, 5, 7, 6], |x| x % 2);
        assert_eq!(groups, [(1, vec![3, 5, 7]), (0, vec![4, 6])]);
        let (done, diverged) = seeds_by_outcome([(3, false), (2, true), (1, false), (0, true)]);
        assert_eq!((done, diverged), (vec![1, 3], vec![0, 2]));
        assert_eq!(config_id("{}").len(), 7);
    }
}
