using System.Numerics;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// Python's equality for dict keys and set items: numbers compare by value across int/bool/float
/// (so a key 1 and a key True collide, as in Python), tuples and bytes by content, everything else by identity.
/// Recursion is bounded because hashable containers cap their depth at construction.
/// </summary>
internal sealed class PyKeyComparer : IEqualityComparer<object>
{
    public static readonly PyKeyComparer Instance = new();

    public new bool Equals(object? x, object? y)
    {
        if (ReferenceEquals(x, y)) return true;
        if (x is null || y is null) return false;
        if (IsNumber(x) && IsNumber(y)) return NumbersEqual(x, y);
        return (x, y) switch
        {
            (string a, string b) => string.Equals(a, b, StringComparison.Ordinal),
            (byte[] a, byte[] b) => a.AsSpan().SequenceEqual(b),
            (PyTuple a, PyTuple b) => TuplesEqual(a, b),
            (PySet a, PySet b) => SetsEqual(a, b),
            _ => false,
        };
    }

    public int GetHashCode(object obj)
    {
        switch (obj)
        {
            case string s:
                return StringComparer.Ordinal.GetHashCode(s);
            case byte[] bytes:
            {
                var hash = new HashCode();
                hash.AddBytes(bytes);
                return hash.ToHashCode();
            }
            case PyTuple t:
            {
                var hash = new HashCode();
                foreach (var item in t.Items) hash.Add(item is null ? 0 : GetHashCode(item));
                return hash.ToHashCode();
            }
            case PySet set:
            {
                // Order-independent, like Python's frozenset hash.
                int hash = set.Count;
                foreach (var item in set.NonNullItems) hash ^= GetHashCode(item);
                return hash;
            }
            default:
                if (IsNumber(obj))
                    return TryAsDouble(obj, out double d) ? d.GetHashCode() : obj.GetHashCode();
                return System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj);
        }
    }

    private static bool IsNumber(object o) => o is long or bool or double or BigInteger;

    private static bool NumbersEqual(object x, object y)
    {
        if (x is double || y is double)
            return TryAsDouble(x, out double a) && TryAsDouble(y, out double b) && a == b;
        return ToBig(x) == ToBig(y);
    }

    private static BigInteger ToBig(object o) => o switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        BigInteger big => big,
        _ => throw new InvalidOperationException(),
    };

    // Hashing every number as a double keeps 1, True and 1.0 in one bucket; precision loss only causes collisions.
    private static bool TryAsDouble(object o, out double value)
    {
        switch (o)
        {
            case double d: value = d; return true;
            case long l: value = l; return true;
            case bool b: value = b ? 1 : 0; return true;
            case BigInteger big: value = (double)big; return true;
            default: value = 0; return false;
        }
    }

    private bool TuplesEqual(PyTuple a, PyTuple b)
    {
        if (a.Count != b.Count) return false;
        for (int i = 0; i < a.Count; i++)
        {
            object? x = a[i], y = b[i];
            if (x is null || y is null)
            {
                if (x is not null || y is not null) return false;
            }
            else if (!Equals(x, y)) return false;
        }
        return true;
    }

    private static bool SetsEqual(PySet a, PySet b)
    {
        if (a.Count != b.Count || a.HasNull != b.HasNull) return false;
        var other = new HashSet<object>(b.NonNullItems, Instance);
        return a.NonNullItems.All(other.Contains);
    }
}
