namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// Decodes the persistent ids torch.save writes for storages:
/// zip format <c>('storage', torch.XStorage, key, location, numel)</c>, legacy format the same plus <c>view_metadata</c>.
/// Everything else (e.g. the <c>('module', ...)</c> ids of a pickled nn.Module) is refused.
/// </summary>
internal static class TorchPersistentIds
{
    public static StorageRef Parse(object? pid, bool legacy)
    {
        if (pid is not PyTuple tuple || tuple.Count == 0)
            throw new PickleError($"persistent id is a {PyValues.TypeName(pid)}; expected a ('storage', ...) tuple");
        if (tuple[0] is not "storage")
        {
            string kind = tuple[0] is string s ? $"'{(s.Length > 40 ? s[..40] : s)}'" : PyValues.TypeName(tuple[0]);
            throw new PickleError(tuple[0] is "module"
                ? "checkpoint pickles a whole nn.Module (torch.save(model)); only state dicts can be read"
                : $"persistent id of kind {kind} not supported; expected 'storage'");
        }
        int expected = legacy ? 6 : 5;
        if (tuple.Count != expected)
            throw new PickleError($"storage persistent id has {tuple.Count} fields; expected {expected}");
        if (tuple[1] is not PyGlobal { Kind: GlobalKind.Storage } type)
            throw new PickleError($"storage type is {PyValues.TypeName(tuple[1])}; expected a torch.XStorage class");
        if (tuple[2] is not string key)
            throw new PickleError($"storage key is a {PyValues.TypeName(tuple[2])}; expected str");
        string location = tuple[3] as string ?? throw new PickleError($"storage location is a {PyValues.TypeName(tuple[3])}; expected str");
        long numel = PickleGlobals.ToLong(tuple[4], "storage element count");
        int size = type.StorageDType.ElementSize();
        if (numel < 0 || numel > Array.MaxLength / size)
            throw new PickleError($"storage '{key}' declares {numel} elements of {size} bytes, which no single array can hold");
        if (legacy && tuple[5] is not null)
            throw new PickleError($"storage '{key}' is a view of another storage (pre-0.4 torch); not supported");
        return new StorageRef(type.StorageDType, key, numel, location);
    }
}
