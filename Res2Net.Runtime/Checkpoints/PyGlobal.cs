namespace Res2Net.Runtime.Checkpoints;

// Globals that passed the allow-list, and the inert records that stand in for instances of opaque classes.

/// <summary>What an allow-listed global stands for; decides what REDUCE, NEWOBJ and BUILD may do with it.</summary>
internal enum GlobalKind
{
    /// <summary>dict-like constructors: OrderedDict, dict, defaultdict.</summary>
    DictType,
    SetType,
    FrozenSetType,
    /// <summary><c>_codecs.encode(str, 'latin1')</c>: how protocol 2 spells a bytes literal.</summary>
    CodecsEncode,
    /// <summary><c>bytes</c>/<c>bytearray</c> from a string and encoding or a list of ints.</summary>
    BytesType,
    /// <summary><c>torch.Size</c>: becomes the tuple it wraps.</summary>
    TorchSize,
    RebuildTensorV2,
    RebuildTensorLegacy,
    RebuildParameter,
    RebuildParameterWithState,
    RebuildFromTypeV2,
    /// <summary>A <c>torch.XStorage</c> class named by a persistent id.</summary>
    Storage,
    /// <summary>A harmless value (type object, dtype constant) that may be stored but never called.</summary>
    Value,
    /// <summary>A data-only class whose instances are kept as an uninterpreted <see cref="PyObject"/>.</summary>
    Opaque,
}

/// <summary>A global the allow-list accepted (<c>module.name</c>).</summary>
internal sealed class PyGlobal(string module, string name, GlobalKind kind, TensorDType storageDType = default)
{
    public string Module { get; } = module;

    public string Name { get; } = name;

    public GlobalKind Kind { get; } = kind;

    /// <summary>Element type, for <see cref="GlobalKind.Storage"/> only.</summary>
    public TensorDType StorageDType { get; } = storageDType;

    public string QualifiedName => Module + "." + Name;

    public override string ToString() => QualifiedName;
}

/// <summary>An instance of an opaque allow-listed class: its constructor arguments and state are recorded, never interpreted.</summary>
internal sealed class PyObject(PyGlobal type, object? args)
{
    public PyGlobal Type { get; } = type;

    public object? Args { get; } = args;

    public object? State { get; set; }

    /// <summary>Items a list subclass received through APPEND(S).</summary>
    public PyList? ListItems { get; set; }

    /// <summary>Items a dict subclass received through SETITEM(S).</summary>
    public PyDict? DictItems { get; set; }
}
