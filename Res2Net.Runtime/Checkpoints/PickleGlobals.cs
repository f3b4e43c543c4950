using System.Numerics;
using System.Text;
using Res2Net.Runtime.IO;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// The allow-list of globals a checkpoint may name, and what REDUCE/NEWOBJ on each of them builds.
/// Nothing is ever imported or invoked: each accepted name maps to a fixed, data-only construction here,
/// and any other name is refused the moment GLOBAL/STACK_GLOBAL mentions it. This is the whole safety argument
/// of the reader, so entries are added only for names whose meaning we rebuild ourselves.
/// </summary>
internal static class PickleGlobals
{
    /// <summary>PyTorch caps tensors at 64 dimensions as well.</summary>
    public const int MaxDimensions = 64;

    private static readonly Dictionary<string, GlobalKind> Allowed = BuildAllowList();

    private static Dictionary<string, GlobalKind> BuildAllowList()
    {
        var map = new Dictionary<string, GlobalKind>(StringComparer.Ordinal)
        {
            ["collections.OrderedDict"] = GlobalKind.DictType,
            ["collections.defaultdict"] = GlobalKind.DictType,
            ["builtins.dict"] = GlobalKind.DictType,
            ["builtins.set"] = GlobalKind.SetType,
            ["builtins.frozenset"] = GlobalKind.FrozenSetType,
            ["_codecs.encode"] = GlobalKind.CodecsEncode,
            ["builtins.bytes"] = GlobalKind.BytesType,
            ["builtins.bytearray"] = GlobalKind.BytesType,
            ["torch.Size"] = GlobalKind.TorchSize,
            ["torch._utils._rebuild_tensor_v2"] = GlobalKind.RebuildTensorV2,
            ["torch._utils._rebuild_tensor"] = GlobalKind.RebuildTensorLegacy,
            ["torch._utils._rebuild_parameter"] = GlobalKind.RebuildParameter,
            ["torch._utils._rebuild_parameter_with_state"] = GlobalKind.RebuildParameterWithState,
            ["torch._tensor._rebuild_from_type_v2"] = GlobalKind.RebuildFromTypeV2,

            // Type objects and constants: storable (e.g. a defaultdict's factory, a dtype in meta), never callable.
            ["torch.Tensor"] = GlobalKind.Value,
            ["torch.nn.parameter.Parameter"] = GlobalKind.Value,
            ["builtins.list"] = GlobalKind.Value,
            ["builtins.tuple"] = GlobalKind.Value,
            ["builtins.int"] = GlobalKind.Value,
            ["builtins.float"] = GlobalKind.Value,
            ["builtins.str"] = GlobalKind.Value,
            ["builtins.bool"] = GlobalKind.Value,

            // Data-only classes that training frameworks leave in 'meta'. Kept as uninterpreted records.
            ["torch.device"] = GlobalKind.Opaque,
            ["torch.serialization._get_layout"] = GlobalKind.Opaque,
            ["argparse.Namespace"] = GlobalKind.Opaque,
            ["datetime.datetime"] = GlobalKind.Opaque,
            ["datetime.date"] = GlobalKind.Opaque,
            ["numpy.core.multiarray._reconstruct"] = GlobalKind.Opaque,
            ["numpy.core.multiarray.scalar"] = GlobalKind.Opaque,
            ["numpy.ndarray"] = GlobalKind.Opaque,
            ["numpy.dtype"] = GlobalKind.Opaque,
            ["mmengine.logging.history_buffer.HistoryBuffer"] = GlobalKind.Opaque,
            ["mmengine.config.config.ConfigDict"] = GlobalKind.Opaque,
            ["mmcv.utils.config.ConfigDict"] = GlobalKind.Opaque,
        };
        foreach (string dtype in new[]
                 {
                     "float32", "float", "float16", "half", "bfloat16", "float64", "double", "int64", "long",
                     "int32", "int", "int16", "short", "int8", "uint8", "bool", "strided", "contiguous_format",
                     "channels_last", "preserve_format",
                 })
            map["torch." + dtype] = GlobalKind.Value;
        foreach (string storage in new[]
                 {
                     "FloatStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage", "LongStorage", "IntStorage",
                     "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage",
                 })
            map["torch." + storage] = GlobalKind.Storage;
        return map;
    }

    /// <summary>Accepts an allow-listed global or throws, naming it; called for GLOBAL, STACK_GLOBAL and INST.</summary>
    public static PyGlobal Resolve(string module, string name)
    {
        string written = module + "." + name;
        module = NormalizeModule(module);
        if (!Allowed.TryGetValue(module + "." + name, out var kind))
        {
            string hint = module.StartsWith("torch", StringComparison.Ordinal) && name.EndsWith("Storage", StringComparison.Ordinal)
                ? " (storage type not supported: only float, half, bfloat16, double and integer/bool storages are read)"
                : "";
            throw new PickleError(
                $"global '{DisplayText.Shorten(written)}' is refused: it is not on the allow-list of data-only names this reader rebuilds " +
                $"(nothing named in a checkpoint is ever imported or run){hint}");
        }
        var dtype = default(TensorDType);
        if (kind == GlobalKind.Storage && !TensorDTypeInfo.TryFromStorageName(name, out dtype))
            throw new InvalidOperationException("allow-list storage without a dtype: " + name);
        return new PyGlobal(module, name, kind, dtype);
    }

    // Python 2 and NumPy 2 spell some modules differently; pickle itself maps the Python 2 names the same way.
    private static string NormalizeModule(string module)
    {
        if (module == "__builtin__") return "builtins";
        if (module == "copy_reg") return "copyreg";
        if (module.StartsWith("numpy._core", StringComparison.Ordinal)) return "numpy.core" + module["numpy._core".Length..];
        return module;
    }


    /// <summary>REDUCE: <c>callable(*args)</c>, rebuilt from data instead of called.</summary>
    public static object? Call(PyGlobal callable, PyTuple args)
    {
        switch (callable.Kind)
        {
            case GlobalKind.DictType:
                return NewDict(callable, args);
            case GlobalKind.SetType:
            case GlobalKind.FrozenSetType:
                return NewSet(callable, args);
            case GlobalKind.CodecsEncode:
                ExpectArgs(callable, args, 1, 2);
                return Encode(callable, args[0], args.Count > 1 ? args[1] : "utf-8");
            case GlobalKind.BytesType:
                return NewBytes(callable, args);
            case GlobalKind.TorchSize:
                ExpectArgs(callable, args, 0, 1);
                return args.Count == 0 ? PyTuple.Empty : args[0] as PyTuple
                    ?? throw new PickleError($"torch.Size expects a tuple, got {PyValues.TypeName(args[0])}");
            case GlobalKind.RebuildTensorV2:
                ExpectArgs(callable, args, 6, 7);
                return BuildTensor(args);
            case GlobalKind.RebuildTensorLegacy:
                ExpectArgs(callable, args, 4, 4);
                return BuildTensor(args);
            case GlobalKind.RebuildParameter:
                ExpectArgs(callable, args, 3, 3);
                return ExpectTensor(callable, args[0]);
            case GlobalKind.RebuildParameterWithState:
                ExpectArgs(callable, args, 4, 4);
                return ExpectTensor(callable, args[0]);
            case GlobalKind.RebuildFromTypeV2:
                return RebuildFromType(callable, args);
            case GlobalKind.Opaque:
                return new PyObject(callable, args);
            default:
                throw new PickleError($"'{callable.QualifiedName}' cannot be called by a checkpoint");
        }
    }

    /// <summary>NEWOBJ: <c>cls.__new__(cls, *args)</c>; only containers and opaque records can be created this way.</summary>
    public static object? NewObject(object? cls, PyTuple args)
    {
        return cls switch
        {
            PyGlobal { Kind: GlobalKind.DictType } g => new PyDict(g.QualifiedName),
            PyGlobal { Kind: GlobalKind.SetType or GlobalKind.FrozenSetType } g => NewSet(g, args),
            PyGlobal { Kind: GlobalKind.Opaque } g => new PyObject(g, args),
            PyGlobal g => throw new PickleError($"'{g.QualifiedName}' cannot be instantiated by a checkpoint"),
            _ => throw new PickleError($"NEWOBJ needs a class, got {PyValues.TypeName(cls)}"),
        };
    }

    private static void ExpectArgs(PyGlobal callable, PyTuple args, int min, int max)
    {
        if (args.Count < min || args.Count > max)
        {
            string expected = min == max ? $"{min}" : $"{min} to {max}";
            throw new PickleError($"{callable.QualifiedName} expects {expected} arguments, got {args.Count}");
        }
    }

    private static PyDict NewDict(PyGlobal type, PyTuple args)
    {
        var dict = new PyDict(type.QualifiedName);
        if (args.Count == 0) return dict;
        if (args.Count > 1) throw new PickleError($"{type.QualifiedName} expects at most 1 argument, got {args.Count}");
        object? source = args[0];
        if (type.Name == "defaultdict")
        {
            // The only argument is the default factory; it is never called, so any allowed global or None will do.
            if (source is not (null or PyGlobal))
                throw new PickleError($"defaultdict factory must be a type, got {PyValues.TypeName(source)}");
            return dict;
        }
        switch (source)
        {
            case PyDict other:
                foreach (var entry in other.Entries) dict.Set(entry.Key, entry.Value);
                return dict;
            case PyList or PyTuple:
                foreach (var pair in Sequence(source))
                {
                    if (pair is not PyTuple { Count: 2 } kv)
                        throw new PickleError($"{type.QualifiedName} items must be (key, value) pairs, got {PyValues.TypeName(pair)}");
                    dict.Set(kv[0], kv[1]);
                }
                return dict;
            default:
                throw new PickleError($"{type.QualifiedName} cannot be built from {PyValues.TypeName(source)}");
        }
    }

    private static PySet NewSet(PyGlobal type, PyTuple args)
    {
        var set = new PySet(type.Kind == GlobalKind.FrozenSetType);
        if (args.Count == 0) return set;
        if (args.Count > 1) throw new PickleError($"{type.QualifiedName} expects at most 1 argument, got {args.Count}");
        foreach (var item in Sequence(args[0])) set.Add(item);
        return set;
    }

    private static IEnumerable<object?> Sequence(object? value) => value switch
    {
        PyList list => list.Items,
        PyTuple tuple => tuple.Items,
        PySet set => set.HasNull ? set.NonNullItems.Append(null) : set.NonNullItems,
        _ => throw new PickleError($"expected a list, tuple or set, got {PyValues.TypeName(value)}"),
    };

    private static byte[] Encode(PyGlobal callable, object? text, object? encoding)
    {
        if (text is not string s || encoding is not string enc)
            throw new PickleError($"{callable.QualifiedName} expects (str, str), got ({PyValues.TypeName(text)}, {PyValues.TypeName(encoding)})");
        switch (enc.ToLowerInvariant().Replace('_', '-'))
        {
            case "latin1" or "latin-1" or "iso-8859-1" or "l1":
                var bytes = new byte[s.Length];
                for (int i = 0; i < s.Length; i++)
                {
                    if (s[i] > 0xFF) throw new PickleError($"{callable.QualifiedName}: character U+{(int)s[i]:X4} is not latin-1");
                    bytes[i] = (byte)s[i];
                }
                return bytes;
            case "utf-8" or "utf8":
                return Encoding.UTF8.GetBytes(s);
            case "ascii":
                if (s.Any(c => c > 0x7F)) throw new PickleError($"{callable.QualifiedName}: non-ASCII text for encoding 'ascii'");
                return Encoding.ASCII.GetBytes(s);
            default:
                throw new PickleError($"{callable.QualifiedName}: encoding '{(enc.Length > 40 ? enc[..40] : enc)}' not supported");
        }
    }

    private static byte[] NewBytes(PyGlobal callable, PyTuple args)
    {
        ExpectArgs(callable, args, 0, 2);
        if (args.Count == 0) return [];
        if (args.Count == 2) return Encode(callable, args[0], args[1]);
        switch (args[0])
        {
            case byte[] bytes:
                return (byte[])bytes.Clone();
            case PyList or PyTuple:
                return Sequence(args[0]).Select(v => v is long l and >= 0 and <= 255
                    ? (byte)l
                    : throw new PickleError($"{callable.QualifiedName}: items must be ints in 0..255")).ToArray();
            default:
                throw new PickleError($"{callable.QualifiedName} cannot be built from {PyValues.TypeName(args[0])}");
        }
    }

    private static TensorRef ExpectTensor(PyGlobal callable, object? value) =>
        value as TensorRef ?? throw new PickleError($"{callable.QualifiedName} expects a tensor, got {PyValues.TypeName(value)}");

    // torch >= 2 wraps tensors that carry Python attributes (and subclasses) in _rebuild_from_type_v2(func, type, args, state).
    // The attributes do not change the values, so we rebuild the inner tensor and drop them.
    private static object? RebuildFromType(PyGlobal callable, PyTuple args)
    {
        ExpectArgs(callable, args, 4, 4);
        if (args[0] is not PyGlobal func || func.Kind is not (GlobalKind.RebuildTensorV2 or GlobalKind.RebuildTensorLegacy
                or GlobalKind.RebuildParameter or GlobalKind.RebuildParameterWithState))
            throw new PickleError($"{callable.QualifiedName}: first argument must be a tensor rebuild function, got {PyValues.TypeName(args[0])}");
        if (args[1] is not PyGlobal { QualifiedName: "torch.Tensor" or "torch.nn.parameter.Parameter" })
            throw new PickleError($"{callable.QualifiedName}: tensor subclass {PyValues.TypeName(args[1])} not supported");
        if (args[2] is not PyTuple inner)
            throw new PickleError($"{callable.QualifiedName}: third argument must be a tuple, got {PyValues.TypeName(args[2])}");
        return Call(func, inner);
    }

    /// <summary>
    /// Validates a view (storage, offset, size, stride) the way the materialiser will walk it, so that nothing later can
    /// index outside the storage or allocate more than the storage's data supports.
    /// </summary>
    private static TensorRef BuildTensor(PyTuple args)
    {
        if (args[0] is not StorageRef storage)
            throw new PickleError($"tensor storage must come from a persistent id, got {PyValues.TypeName(args[0])}");
        PickleError Fail(string cause) => new($"tensor on storage '{storage.Key}': {cause}");
        long offset = ToLong(args[1], "storage_offset");
        if (offset < 0) throw Fail($"negative storage_offset {offset}");
        long[] size = ToLongs(args[2], "size");
        long[] stride = ToLongs(args[3], "stride");
        if (size.Length != stride.Length)
            throw Fail($"size has {size.Length} dimensions but stride has {stride.Length}");
        if (size.Length > MaxDimensions)
            throw Fail($"{size.Length} dimensions; at most {MaxDimensions} are supported");

        var shape = new int[size.Length];
        long count = 1, span = 1;
        for (int i = 0; i < size.Length; i++)
        {
            if (size[i] < 0 || size[i] > int.MaxValue) throw Fail($"size[{i}] = {size[i]} out of range");
            if (stride[i] < 0) throw Fail($"stride[{i}] = {stride[i]} is negative");
            shape[i] = (int)size[i];
        }
        bool empty = size.Any(s => s == 0);
        if (!empty)
        {
            try
            {
                checked
                {
                    for (int i = 0; i < size.Length; i++)
                    {
                        count *= size[i];
                        span += (size[i] - 1) * stride[i];
                    }
                    _ = offset + span;
                }
            }
            catch (OverflowException)
            {
                throw Fail($"view size [{string.Join(", ", size)}] stride [{string.Join(", ", stride)}] overflows");
            }
        }
        else
        {
            count = 0;
            span = 0;
        }

        if (count > Array.MaxLength)
            throw Fail($"{count} elements are too many for one array");
        if (count > span)
            throw Fail(
                $"view size [{string.Join(", ", size)}] stride [{string.Join(", ", stride)}] repeats storage elements " +
                $"({count} elements over a span of {span}); broadcast/overlapping views are not supported");
        long extent = empty ? 0 : offset + span;
        if (extent > storage.ElementCount)
            throw Fail(
                $"view (offset {offset}, size [{string.Join(", ", size)}], stride [{string.Join(", ", stride)}]) reaches element {extent - 1} " +
                $"but storage '{storage.Key}' declares only {storage.ElementCount} elements");
        return new TensorRef(storage, offset, shape, stride, count, extent);
    }

    public static long ToLong(object? value, string what) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        BigInteger => throw new PickleError($"{what} is an integer out of range"),
        _ => throw new PickleError($"{what} must be an int, got {PyValues.TypeName(value)}"),
    };

    private static long[] ToLongs(object? value, string what)
    {
        if (value is not PyTuple tuple)
            throw new PickleError($"{what} must be a tuple, got {PyValues.TypeName(value)}");
        var result = new long[tuple.Count];
        for (int i = 0; i < result.Length; i++) result[i] = ToLong(tuple[i], $"{what}[{i}]");
        return result;
    }
}
