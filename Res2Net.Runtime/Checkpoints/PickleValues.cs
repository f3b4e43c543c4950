using System.Numerics;

namespace Res2Net.Runtime.Checkpoints;

// The object model the unpickler builds. It is pure data: nothing here can run code, which is what makes
// reading an untrusted checkpoint safe. Python scalars map onto CLR values:
//   None -> null, bool -> bool, int -> long (BigInteger when it does not fit), float -> double,
//   str -> string, bytes/bytearray -> byte[].

/// <summary>A Python tuple. Immutable and hashable, so it records its nesting depth to keep hashing bounded.</summary>
internal sealed class PyTuple
{
    public static readonly PyTuple Empty = new([]);

    public PyTuple(object?[] items)
    {
        Items = items;
        int depth = 0;
        foreach (var item in items)
            depth = Math.Max(depth, PyValues.DepthOf(item));
        Depth = depth + 1;
        if (Depth > PyValues.MaxNesting)
            throw new PickleError($"tuples nested deeper than {PyValues.MaxNesting} levels");
    }

    public object?[] Items { get; }

    public int Depth { get; }

    public int Count => Items.Length;

    public object? this[int index] => Items[index];
}

/// <summary>A Python list.</summary>
internal sealed class PyList
{
    public List<object?> Items { get; } = new();
}

/// <summary>A dict, <c>OrderedDict</c> or <c>defaultdict</c>; Python dicts keep insertion order, and so does this one.</summary>
internal sealed class PyDict
{
    private readonly Dictionary<object, int> _index = new(PyKeyComparer.Instance);
    private readonly List<KeyValuePair<object?, object?>> _entries = new();
    private int _nullKey = -1;

    public PyDict(string typeName) => TypeName = typeName;

    /// <summary><c>dict</c>, <c>collections.OrderedDict</c>, ...: only used in messages.</summary>
    public string TypeName { get; }

    /// <summary>Instance attributes set by BUILD, e.g. the <c>_metadata</c> that <c>state_dict()</c> attaches.</summary>
    public object? Attributes { get; set; }

    public int Count => _entries.Count;

    public IReadOnlyList<KeyValuePair<object?, object?>> Entries => _entries;

    public void Set(object? key, object? value)
    {
        PyValues.EnsureHashable(key);
        if (key is null)
        {
            if (_nullKey >= 0) _entries[_nullKey] = new(key, value);
            else { _nullKey = _entries.Count; _entries.Add(new(key, value)); }
            return;
        }
        if (_index.TryGetValue(key, out int at))
            _entries[at] = new(_entries[at].Key, value);
        else
        {
            _index[key] = _entries.Count;
            _entries.Add(new(key, value));
        }
    }

    public bool TryGet(string key, out object? value)
    {
        if (_index.TryGetValue(key, out int at))
        {
            value = _entries[at].Value;
            return true;
        }
        value = null;
        return false;
    }
}

/// <summary>A set or frozenset. Frozensets can be dict keys, so the depth is tracked like a tuple's.</summary>
internal sealed class PySet
{
    private readonly HashSet<object> _items = new(PyKeyComparer.Instance);
    private bool _hasNull;

    public PySet(bool frozen) => Frozen = frozen;

    public bool Frozen { get; }

    public int Depth { get; private set; } = 1;

    public int Count => _items.Count + (_hasNull ? 1 : 0);

    public bool HasNull => _hasNull;

    public IEnumerable<object> NonNullItems => _items;

    public void Add(object? item)
    {
        PyValues.EnsureHashable(item);
        int depth = PyValues.DepthOf(item) + 1;
        if (depth > PyValues.MaxNesting)
            throw new PickleError($"sets nested deeper than {PyValues.MaxNesting} levels");
        Depth = Math.Max(Depth, depth);
        if (item is null) _hasNull = true;
        else _items.Add(item);
    }
}

/// <summary>Helpers shared by the value types.</summary>
internal static class PyValues
{
    /// <summary>How deep hashable containers may nest; Python itself stops near 1000, real checkpoints use a handful.</summary>
    public const int MaxNesting = 100;

    public static int DepthOf(object? value) => value switch
    {
        PyTuple t => t.Depth,
        PySet s => s.Depth,
        _ => 0,
    };

    public static void EnsureHashable(object? key)
    {
        switch (key)
        {
            case PyList: case PyDict: case PySet { Frozen: false }:
                throw new PickleError($"unhashable {TypeName(key)} used as a dict key or set item");
            case PyTuple t:
                foreach (var item in t.Items) EnsureHashable(item);
                break;
        }
    }

    /// <summary>The Python type name of a value, for messages (never the value, which may be huge or hostile).</summary>
    public static string TypeName(object? value) => value switch
    {
        null => "None",
        bool => "bool",
        long or BigInteger => "int",
        double => "float",
        string => "str",
        byte[] => "bytes",
        PyTuple => "tuple",
        PyList => "list",
        PyDict d => d.TypeName,
        PySet s => s.Frozen ? "frozenset" : "set",
        PyGlobal g => g.QualifiedName,
        PyObject o => o.Type.QualifiedName + " instance",
        StorageRef => "storage",
        TensorRef => "tensor",
        _ => value.GetType().Name,
    };

    /// <summary>A short rendering for messages: strings and numbers literally (truncated), containers by type.</summary>
    public static string Describe(object? value)
    {
        switch (value)
        {
            case string s:
                return "'" + Res2Net.Runtime.IO.DisplayText.Escape(s, 60) + "'";
            case BigInteger big when big.GetBitLength() > 128:
                // Formatting a huge int is quadratic; a hostile LONG4 could make an error message take minutes.
                return $"int of {big.GetBitLength()} bits";
            case long or BigInteger or double or bool:
                string text = Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                return text.Length > 40 ? text[..40] + "..." : text;
            default:
                return TypeName(value);
        }
    }
}
