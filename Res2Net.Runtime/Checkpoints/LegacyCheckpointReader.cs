using System.Buffers.Binary;
using System.Numerics;
using Res2Net.Runtime.IO;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// The format torch.save wrote before 1.6 (and still writes with <c>_use_new_zipfile_serialization=False</c>); the
/// official Res2Net weights of 2019 use it. The file is a chain of pickles followed by raw storages:
/// magic number, protocol version (1001), sys_info, the object (storages as persistent ids), the sorted list of
/// storage keys, then for each key an int64 element count and the elements.
/// Only the pickles are read into memory; storages are read from the stream when a tensor asks for them.
/// </summary>
internal sealed class LegacyCheckpointReader : IStorageSource
{
    /// <summary>What torch pickles first, so a loader can tell its files from arbitrary pickles.</summary>
    public static readonly BigInteger MagicNumber = BigInteger.Parse("1950a86a20f9469cfc6c", System.Globalization.NumberStyles.HexNumber);

    private const long ProtocolVersion = 1001;

    /// <summary>The pickles of a state dict take a few hundred KB; the first read covers that, later ones grow 4x.</summary>
    private const int FirstReadBytes = 1 << 20;

    private readonly Stream _stream;
    private readonly long _start;
    private readonly string _file;
    private readonly bool _bigEndian;
    private readonly Dictionary<string, (long Offset, long Bytes)> _storages = new(StringComparer.Ordinal);

    private LegacyCheckpointReader(Stream stream, long start, string file, bool bigEndian)
    {
        _stream = stream;
        _start = start;
        _file = file;
        _bigEndian = bigEndian;
    }

    /// <summary>Indexes the file at <paramref name="stream"/>'s position; the stream must stay open while tensors are read.</summary>
    public static TensorTable Open(Stream stream, string file) => Open(stream, file, FirstReadBytes);

    /// <summary>As <see cref="Open(Stream, string)"/>, reading <paramref name="firstWindow"/> bytes before the first attempt to parse the pickles (tests make it tiny).</summary>
    internal static TensorTable Open(Stream stream, string file, int firstWindow)
    {
        long start = stream.Position;
        long length = stream.Length - start;
        long window = Math.Min(length, Math.Max(firstWindow, 1));
        while (true)
        {
            if (window > Array.MaxLength)
                throw new CheckpointException(file, "legacy checkpoint's pickles do not fit in memory");
            stream.Position = start;
            byte[] head = BoundedRead.TryReadExactly(stream, window, out long got, countIsVerified: true)
                ?? throw new CheckpointException(file, $"file ended after {got} of {window} bytes while reading it");
            try
            {
                return Open(stream, start, length, head, moreBeyondEnd: window < length, file);
            }
            catch (PickleNeedsMoreData)
            {
                window = Math.Min(length, window * 4);
            }
        }
    }

    private static TensorTable Open(Stream stream, long start, long length, byte[] head, bool moreBeyondEnd, string file)
    {
        int pos = 0;
        object? magic = LoadNext(head, ref pos, file, "magic number", null, moreBeyondEnd);
        bool isMagic = magic switch
        {
            BigInteger big => big == MagicNumber,
            _ => false,
        };
        if (!isMagic)
            throw new CheckpointException(file,
                $"not a PyTorch checkpoint: the file is a pickle whose first object is {PyValues.Describe(magic)}, " +
                "not torch's magic number 0x1950a86a20f9469cfc6c (torch.save always writes it first in the legacy format)");

        object? version = LoadNext(head, ref pos, file, "protocol version", null, moreBeyondEnd);
        if (version is not long v || v != ProtocolVersion)
            throw new CheckpointException(file, $"legacy checkpoint protocol version is {PyValues.Describe(version)}; expected {ProtocolVersion}");

        object? sysInfo = LoadNext(head, ref pos, file, "sys_info", null, moreBeyondEnd);
        bool bigEndian = false;
        if (sysInfo is PyDict info && info.TryGet("little_endian", out var little))
            bigEndian = little is false;

        var referenced = new Dictionary<string, StorageRef>(StringComparer.Ordinal);
        object? top = LoadNext(head, ref pos, file, "object", pid =>
        {
            var storage = TorchPersistentIds.Parse(pid, legacy: true);
            referenced.TryAdd(storage.Key, storage);
            return storage;
        }, moreBeyondEnd);

        object? keys = LoadNext(head, ref pos, file, "storage key list", null, moreBeyondEnd);
        if (keys is not PyList keyList)
            throw new CheckpointException(file, $"legacy storage key list is a {PyValues.TypeName(keys)}; expected a list");

        var reader = new LegacyCheckpointReader(stream, start, file, bigEndian);
        long at = pos;
        Span<byte> countBytes = stackalloc byte[8];
        foreach (var item in keyList.Items)
        {
            if (item is not string key)
                throw new CheckpointException(file, $"legacy storage key is a {PyValues.TypeName(item)}; expected str");
            if (!referenced.TryGetValue(key, out var storage))
                throw new CheckpointException(file, $"legacy storage '{key}' is listed but never referenced, so its element size is unknown");
            if (at > length - 8)
                throw new CheckpointException(file, $"legacy storage '{key}': file ends at byte {length} before its element count");
            reader.ReadAt(at, countBytes);
            long count = bigEndian ? BinaryPrimitives.ReadInt64BigEndian(countBytes) : BinaryPrimitives.ReadInt64LittleEndian(countBytes);
            at += 8;
            int size = storage.DType.ElementSize();
            if (count < 0 || count > (length - at) / size)
                throw new CheckpointException(file,
                    $"legacy storage '{key}' claims {count} elements of {size} bytes but only {length - at} bytes remain; the file is truncated or corrupt");
            if (!reader._storages.TryAdd(key, (at, count * size)))
                throw new CheckpointException(file, $"legacy storage key '{key}' is listed twice");
            at += count * size;
        }
        var (dict, wrapper) = StateDictAssembler.Locate(top, file);
        var entries = StateDictAssembler.Index(dict, wrapper, reader, file);
        return new TensorTable(CheckpointFormat.TorchLegacy, wrapper, entries, new Dictionary<string, string>(), null);
    }

    private static object? LoadNext(byte[] data, ref int pos, string file, string what, PersistentLoader? loader, bool moreBeyondEnd)
    {
        var unpickler = new Unpickler(data, pos, data.Length, file, $"legacy {what} pickle", loader, moreBeyondEnd);
        object? value = unpickler.Load();
        pos = unpickler.Position;
        return value;
    }

    /// <summary>Fills <paramref name="destination"/> from <paramref name="offset"/> (relative to the start of the checkpoint).</summary>
    private void ReadAt(long offset, Span<byte> destination)
    {
        _stream.Position = _start + offset;
        int got = _stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        if (got < destination.Length)
            throw new CheckpointException(_file, $"file ends {got} bytes after offset {offset} but {destination.Length} are needed; it changed while being read, or is truncated");
    }

    public long DeclaredBytes(string key) =>
        _storages.TryGetValue(key, out var s)
            ? s.Bytes
            : throw new CheckpointException(_file, $"storage '{key}' is referenced by the pickle but missing from the legacy storage list");

    public bool CanReadDirectly(string key, long byteCount) => !_bigEndian && byteCount <= _storages[key].Bytes;

    public void ReadInto(string key, Span<byte> destination) => ReadAt(_storages[key].Offset, destination);

    public byte[] Load(string key, long byteCount, int elementSize)
    {
        var (offset, bytes) = _storages[key];
        if (byteCount > bytes)
            throw new CheckpointException(_file, $"storage '{key}' holds {bytes} bytes but {byteCount} are needed");
        var data = new byte[byteCount];
        ReadAt(offset, data);
        if (_bigEndian) TensorMaterializer.SwapToLittleEndian(data, elementSize);
        return data;
    }
}
