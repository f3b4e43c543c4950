using System.Buffers.Binary;
using System.Numerics;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// The format torch.save wrote before 1.6 (and still writes with <c>_use_new_zipfile_serialization=False</c>); the
/// official Res2Net weights of 2019 use it. The file is a chain of pickles followed by raw storages:
/// magic number, protocol version (1001), sys_info, the object (storages as persistent ids), the sorted list of
/// storage keys, then for each key an int64 element count and the elements.
/// </summary>
internal sealed class LegacyCheckpointReader : IStorageSource
{
    /// <summary>What torch pickles first, so a loader can tell its files from arbitrary pickles.</summary>
    public static readonly BigInteger MagicNumber = BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);

    private const long ProtocolVersion = 1001;

    private readonly byte[] _data;
    private readonly string _file;
    private readonly bool _bigEndian;
    private readonly Dictionary<string, (int Offset, long Bytes)> _storages = new(StringComparer.Ordinal);

    private LegacyCheckpointReader(byte[] data, string file, bool bigEndian)
    {
        _data = data;
        _file = file;
        _bigEndian = bigEndian;
    }

    public static StateDict Read(byte[] data, string file)
    {
        int pos = 0;
        object? magic = LoadNext(data, ref pos, file, "magic number", null);
        bool isMagic = magic switch
        {
            BigInteger big => big == MagicNumber,
            _ => false,
        };
        if (!isMagic)
            throw new CheckpointException(file,
                $"not a PyTorch checkpoint: the file is a pickle whose first object is {PyValues.Describe(magic)}, " +
                "not torch's magic number 0x1950a86a20f9469cfc6c (torch.save always writes it first in the legacy format)");

        object? version = LoadNext(data, ref pos, file, "protocol version", null);
        if (version is not long v || v != ProtocolVersion)
            throw new CheckpointException(file, $"legacy checkpoint protocol version is {PyValues.Describe(version)}; expected {ProtocolVersion}");

        object? sysInfo = LoadNext(data, ref pos, file, "sys_info", null);
        bool bigEndian = false;
        if (sysInfo is PyDict info && info.TryGet("little_endian", out var little))
            bigEndian = little is false;

        var referenced = new Dictionary<string, StorageRef>(StringComparer.Ordinal);
        object? top = LoadNext(data, ref pos, file, "object", pid =>
        {
            var storage = TorchPersistentIds.Parse(pid, legacy: true);
            referenced.TryAdd(storage.Key, storage);
            return storage;
        });

        object? keys = LoadNext(data, ref pos, file, "storage key list", null);
        if (keys is not PyList keyList)
            throw new CheckpointException(file, $"legacy storage key list is a {PyValues.TypeName(keys)}; expected a list");

        var reader = new LegacyCheckpointReader(data, file, bigEndian);
        foreach (var item in keyList.Items)
        {
            if (item is not string key)
                throw new CheckpointException(file, $"legacy storage key is a {PyValues.TypeName(item)}; expected str");
            if (!referenced.TryGetValue(key, out var storage))
                throw new CheckpointException(file, $"legacy storage '{key}' is listed but never referenced, so its element size is unknown");
            if (pos > data.Length - 8)
                throw new CheckpointException(file, $"legacy storage '{key}': file ends at byte {data.Length} before its element count");
            long count = bigEndian
                ? BinaryPrimitives.ReadInt64BigEndian(data.AsSpan(pos))
                : BinaryPrimitives.ReadInt64LittleEndian(data.AsSpan(pos));
            pos += 8;
            int size = storage.DType.ElementSize();
            if (count < 0 || count > (data.Length - pos) / size)
                throw new CheckpointException(file,
                    $"legacy storage '{key}' claims {count} elements of {size} bytes but only {data.Length - pos} bytes remain; the file is truncated or corrupt");
            if (!reader._storages.TryAdd(key, (pos, count * size)))
                throw new CheckpointException(file, $"legacy storage key '{key}' is listed twice");
            pos += (int)(count * size);
        }
        return StateDictAssembler.Assemble(top, reader, file);
    }

    private static object? LoadNext(byte[] data, ref int pos, string file, string what, PersistentLoader? loader)
    {
        var unpickler = new Unpickler(data, pos, data.Length, file, $"legacy {what} pickle", loader);
        object? value = unpickler.Load();
        pos = unpickler.Position;
        return value;
    }

    public long DeclaredBytes(string key) =>
        _storages.TryGetValue(key, out var s)
            ? s.Bytes
            : throw new CheckpointException(_file, $"storage '{key}' is referenced by the pickle but missing from the legacy storage list");

    public bool CanReadDirectly(string key, long byteCount) => !_bigEndian && byteCount <= _storages[key].Bytes;

    public void ReadInto(string key, Span<byte> destination) => _data.AsSpan(_storages[key].Offset, destination.Length).CopyTo(destination);

    public byte[] Load(string key, long byteCount, int elementSize)
    {
        var (offset, _) = _storages[key];
        byte[] bytes = _data.AsSpan(offset, (int)byteCount).ToArray();
        if (_bigEndian) TensorMaterializer.SwapToLittleEndian(bytes, elementSize);
        return bytes;
    }
}
