namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// Turns the unpickled object graph into the tensors of a state dict: finds the state dict (mmpretrain wraps it as
/// <c>{'meta': ..., 'state_dict': ...}</c>, other trainers as <c>{'model': ...}</c>, a bare <c>model.state_dict()</c> is the
/// mapping itself), insists that every entry is a tensor whose storage the file really holds, and leaves the reading
/// of the values to each entry, so a loader can stream them one by one.
/// </summary>
internal static class StateDictAssembler
{
    private const string StateDictKey = "state_dict";
    private const string ModelKey = "model";
    private const string MetadataAttribute = "_metadata";

    public static List<TableEntry> Index(PyDict dict, string wrapper, IStorageSource source, string file)
    {
        var entries = CheckEntries(dict, wrapper, file);
        foreach (var group in entries.GroupBy(e => e.View.Storage.Key, StringComparer.Ordinal))
        {
            string key = group.Key;
            long available = source.DeclaredBytes(key);
            foreach (var (name, view) in group)
            {
                var storage = view.Storage;
                long declared = storage.ElementCount * storage.DType.ElementSize();
                if (declared > available)
                    throw new CheckpointException(file,
                        $"tensor '{name}': storage '{key}' holds {available} bytes but the checkpoint declares " +
                        $"{storage.ElementCount} {storage.DType} elements ({declared} bytes); the file is truncated or corrupt");
            }
        }
        return entries.Select(e => new TableEntry(e.Name, e.View.Shape, e.View.Storage.DType, () => Read(e.View, source))).ToList();
    }

    /// <summary>Reads one view: straight from the file into its array when it is one contiguous float32 run, else via the raw bytes.</summary>
    private static float[] Read(TensorRef view, IStorageSource source)
    {
        int size = view.Storage.DType.ElementSize();
        if (view.Storage.DType == TensorDType.Float32 && view.Offset == 0 && BitConverter.IsLittleEndian &&
            TensorMaterializer.IsContiguous(view) && source.CanReadDirectly(view.Storage.Key, view.ElementCount * sizeof(float)))
        {
            var data = new float[view.ElementCount];
            source.ReadInto(view.Storage.Key, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
            return data;
        }
        byte[] bytes = source.Load(view.Storage.Key, view.Extent * size, size);
        return TensorMaterializer.Gather(bytes, view);
    }

    public static (PyDict Dict, string Wrapper) Locate(object? top, string file)
    {
        if (top is not PyDict topDict)
            throw new CheckpointException(file,
                $"top-level object is of type {PyValues.TypeName(top)}; expected a dict holding a state dict (or the state dict itself)");

        foreach (var (key, wrapper) in new[] { (StateDictKey, StateDict.StateDictWrapper), (ModelKey, StateDict.ModelWrapper) })
        {
            if (!topDict.TryGet(key, out var inner)) continue;
            if (inner is PyDict innerDict) return (innerDict, wrapper);
            // A bare state dict may hold a tensor called 'model'; only a wrapper's 'model' must be a mapping.
            if (key == ModelKey && inner is TensorRef) break;
            throw new CheckpointException(file, $"'{key}' is of type {PyValues.TypeName(inner)}; expected a mapping of names to tensors");
        }

        if (topDict.Entries.All(e => e.Value is TensorRef))
            return (topDict, StateDict.NoWrapper);

        string keys = string.Join(", ", topDict.Entries.Take(20).Select(e => PyValues.Describe(e.Key)));
        if (topDict.Count > 20) keys += $", ... ({topDict.Count} keys)";
        throw new CheckpointException(file,
            $"no state dict found: top-level {topDict.TypeName} has keys [{keys}]; expected a '{StateDictKey}' or '{ModelKey}' key " +
            "or a mapping whose values are all tensors");
    }

    private static List<(string Name, TensorRef View)> CheckEntries(PyDict dict, string wrapper, string file)
    {
        string where = wrapper == StateDict.NoWrapper ? "the state dict" : $"'{wrapper}'";
        CheckAttributes(dict, where, file);
        var entries = new List<(string, TensorRef)>(dict.Count);
        foreach (var (key, value) in dict.Entries)
        {
            if (key is not string name)
                throw new CheckpointException(file, $"{where} has a key of type {PyValues.TypeName(key)} ({PyValues.Describe(key)}); expected str");
            if (value is not TensorRef view)
                throw new CheckpointException(file, $"{where} entry '{name}' is of type {PyValues.TypeName(value)}, not a tensor");
            if (!view.Storage.DType.IsFloatingPoint() && IsLearnedOrStatistic(name))
                throw new CheckpointException(file,
                    $"tensor '{name}' has dtype {view.Storage.DType}; weights and BN statistics must be floating point");
            entries.Add((name, view));
        }
        return entries;
    }

    // Module.state_dict() attaches version info as OrderedDict._metadata, which pickle restores through BUILD.
    // It describes the module tree, not weights; anything else attached to the mapping would be unexplained.
    private static void CheckAttributes(PyDict dict, string where, string file)
    {
        switch (dict.Attributes)
        {
            case null:
                return;
            case PyDict attributes when attributes.Entries.All(e => e.Key is MetadataAttribute):
                return;
            case PyDict attributes:
                var names = attributes.Entries.Where(e => e.Key is not MetadataAttribute).Select(e => PyValues.Describe(e.Key));
                throw new CheckpointException(file, $"{where} carries unexpected attributes [{string.Join(", ", names)}]; only '{MetadataAttribute}' is understood");
            default:
                throw new CheckpointException(file, $"{where} carries state of type {PyValues.TypeName(dict.Attributes)}; only a '{MetadataAttribute}' attribute is understood");
        }
    }

    /// <summary>Integer tensors are fine for counters such as <c>num_batches_tracked</c>, never for values that enter arithmetic.</summary>
    private static bool IsLearnedOrStatistic(string name) =>
        name.EndsWith(".weight", StringComparison.Ordinal) || name.EndsWith(".bias", StringComparison.Ordinal) ||
        name.EndsWith(".running_mean", StringComparison.Ordinal) || name.EndsWith(".running_var", StringComparison.Ordinal) ||
        name is "weight" or "bias";

    /// <summary>Same check for formats that carry dtypes without pickles (safetensors).</summary>
    public static void CheckDType(string name, TensorDType dtype, string file)
    {
        if (!dtype.IsFloatingPoint() && IsLearnedOrStatistic(name))
            throw new CheckpointException(file, $"tensor '{name}' has dtype {dtype}; weights and BN statistics must be floating point");
    }
}
