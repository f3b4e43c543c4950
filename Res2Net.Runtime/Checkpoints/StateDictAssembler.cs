namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// Turns the unpickled object graph into a <see cref="StateDict"/>: finds the state dict (mmpretrain wraps it as
/// <c>{'meta': ..., 'state_dict': ...}</c>, a bare <c>model.state_dict()</c> is the mapping itself), insists that every
/// entry is a tensor, then copies the tensors out storage by storage so each storage's bytes are held only once.
/// </summary>
internal static class StateDictAssembler
{
    private const string StateDictKey = "state_dict";
    private const string MetadataAttribute = "_metadata";

    public static StateDict Assemble(object? top, IStorageSource source, string file)
    {
        var (dict, wrapper) = Locate(top, file);
        var entries = CheckEntries(dict, wrapper, file);

        var tensors = new CheckpointTensor?[entries.Count];
        foreach (var group in Enumerable.Range(0, entries.Count).GroupBy(i => entries[i].View.Storage.Key, StringComparer.Ordinal))
        {
            string key = group.Key;
            long available = source.DeclaredBytes(key);
            long needed = 0;
            int elementSize = 1;
            foreach (int i in group)
            {
                var storage = entries[i].View.Storage;
                int size = storage.DType.ElementSize();
                long declared = storage.ElementCount * size;
                if (declared > available)
                    throw new CheckpointException(file,
                        $"tensor '{entries[i].Name}': storage '{key}' holds {available} bytes but the checkpoint declares " +
                        $"{storage.ElementCount} {storage.DType} elements ({declared} bytes); the file is truncated or corrupt");
                needed = Math.Max(needed, entries[i].View.Extent * size);
                elementSize = size;
            }
            // The common case, one contiguous float32 tensor per storage, goes straight from the file into its array:
            // half the memory and one copy fewer than staging the raw bytes.
            if (group.Count() == 1 && TryReadDirectly(entries[group.First()], source) is { } direct)
            {
                tensors[group.First()] = direct;
                continue;
            }

            // Storages shared by views of different dtypes cannot be byte-swapped consistently; torch never writes them.
            byte[] bytes = source.Load(key, needed, elementSize);
            foreach (int i in group)
            {
                var (name, view) = entries[i];
                tensors[i] = new CheckpointTensor(name, view.Shape, view.Storage.DType, TensorMaterializer.Gather(bytes, view));
            }
        }
        return new StateDict(tensors.Select(t => t!), file, wrapper);
    }

    private static CheckpointTensor? TryReadDirectly((string Name, TensorRef View) entry, IStorageSource source)
    {
        var (name, view) = entry;
        if (view.Storage.DType != TensorDType.Float32 || view.Offset != 0 || !BitConverter.IsLittleEndian ||
            !TensorMaterializer.IsContiguous(view) || !source.CanReadDirectly(view.Storage.Key, view.ElementCount * sizeof(float)))
            return null;
        var data = new float[view.ElementCount];
        source.ReadInto(view.Storage.Key, System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()));
        return new CheckpointTensor(name, view.Shape, view.Storage.DType, data);
    }

    private static (PyDict Dict, string Wrapper) Locate(object? top, string file)
    {
        if (top is not PyDict topDict)
            throw new CheckpointException(file,
                $"top-level object is of type {PyValues.TypeName(top)}; expected a dict holding a state dict (or the state dict itself)");

        if (topDict.TryGet(StateDictKey, out var inner))
        {
            if (inner is PyDict innerDict) return (innerDict, StateDict.StateDictWrapper);
            throw new CheckpointException(file, $"'{StateDictKey}' is of type {PyValues.TypeName(inner)}; expected a mapping of names to tensors");
        }

        if (topDict.Entries.All(e => e.Value is TensorRef))
            return (topDict, StateDict.NoWrapper);

        string keys = string.Join(", ", topDict.Entries.Take(20).Select(e => PyValues.Describe(e.Key)));
        if (topDict.Count > 20) keys += $", ... ({topDict.Count} keys)";
        throw new CheckpointException(file,
            $"no state dict found: top-level {topDict.TypeName} has keys [{keys}]; expected a '{StateDictKey}' key " +
            "or a mapping whose values are all tensors");
    }

    private static List<(string Name, TensorRef View)> CheckEntries(PyDict dict, string wrapper, string file)
    {
        string where = wrapper == StateDict.StateDictWrapper ? $"'{StateDictKey}'" : "the state dict";
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
}
