using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Res2Net.Tests.Checkpoints;

/// <summary>Writes pickles opcode by opcode, so tests can state hostile or unusual inputs exactly.</summary>
internal sealed class PickleBuilder
{
    private readonly List<byte> _bytes = new();

    public PickleBuilder Raw(params byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public PickleBuilder Op(char opcode) => Raw((byte)opcode);

    public PickleBuilder Proto(byte protocol = 2) => Raw(0x80, protocol);

    public PickleBuilder Stop() => Op('.');

    public PickleBuilder Mark() => Op('(');

    public PickleBuilder Global(string module, string name) => Op('c').Raw(Encoding.UTF8.GetBytes(module + "\n" + name + "\n"));

    public PickleBuilder StackGlobal(string module, string name) => Str(module).Str(name).Raw(0x93);

    public PickleBuilder Str(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        Op('X');
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, utf8.Length);
        return Raw(length.ToArray()).Raw(utf8);
    }

    public PickleBuilder Int(int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return Op('J').Raw(bytes.ToArray());
    }

    public PickleBuilder Long(long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return Raw(0x8a, 8).Raw(bytes.ToArray());
    }

    public PickleBuilder EmptyTuple() => Op(')');

    public PickleBuilder Tuple(params int[] items)
    {
        Mark();
        foreach (int item in items) Int(item);
        return Op('t');
    }

    public PickleBuilder Reduce() => Op('R');

    public PickleBuilder OrderedDict() => Global("collections", "OrderedDict").EmptyTuple().Reduce();

    /// <summary>A tensor as torch.save writes it: _rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict()).</summary>
    public PickleBuilder Tensor(string storageType, string key, long numel, long offset, int[] size, int[] stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2").Mark();
        Mark().Str("storage").Global("torch", storageType).Str(key).Str("cpu").Long(numel).Op('t').Op('Q');
        Long(offset).Tuple(size).Tuple(stride).Raw(0x89).OrderedDict();
        return Op('t').Reduce();
    }

    public byte[] ToArray() => _bytes.ToArray();

    /// <summary>A state dict pickle of float32 tensors, each (name, key, numel, offset, size, stride); optionally mmpretrain-wrapped.</summary>
    public static byte[] StateDict(bool wrapped, params (string Name, string StorageType, string Key, long Numel, long Offset, int[] Size, int[] Stride)[] tensors)
    {
        var p = new PickleBuilder().Proto();
        if (wrapped) p.Op('}').Mark().Str("meta").Op('}').Str("state_dict");
        p.OrderedDict().Mark();
        foreach (var t in tensors) p.Str(t.Name).Tensor(t.StorageType, t.Key, t.Numel, t.Offset, t.Size, t.Stride);
        p.Op('u');
        if (wrapped) p.Op('u');
        return p.Stop().ToArray();
    }
}

/// <summary>Packs a pickle and storages into the zip layout torch.save produces.</summary>
internal static class CheckpointZip
{
    public static byte[] Build(byte[] pickle, IReadOnlyDictionary<string, byte[]>? storages = null, string archive = "ckpt",
        string? byteOrder = null, CompressionLevel level = CompressionLevel.NoCompression)
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(zip, archive + "/data.pkl", pickle, level);
            if (byteOrder is not null) Add(zip, archive + "/byteorder", Encoding.ASCII.GetBytes(byteOrder), level);
            foreach (var (key, bytes) in storages ?? new Dictionary<string, byte[]>())
                Add(zip, archive + "/data/" + key, bytes, level);
            Add(zip, archive + "/version", "3\n"u8.ToArray(), level);
        }
        return memory.ToArray();
    }

    /// <summary>Copies a zip checkpoint, letting <paramref name="edit"/> replace (return bytes) or drop (return null) each entry.</summary>
    public static byte[] Rewrite(byte[] original, Func<string, byte[], byte[]?> edit)
    {
        using var source = new ZipArchive(new MemoryStream(original), ZipArchiveMode.Read);
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in source.Entries)
            {
                using var input = entry.Open();
                using var content = new MemoryStream();
                input.CopyTo(content);
                byte[]? replaced = edit(entry.FullName, content.ToArray());
                if (replaced is not null) Add(zip, entry.FullName, replaced, CompressionLevel.NoCompression);
            }
        }
        return memory.ToArray();
    }

    public static byte[] Entry(byte[] zipBytes, string suffix)
    {
        using var zip = new ZipArchive(new MemoryStream(zipBytes), ZipArchiveMode.Read);
        var entry = zip.Entries.Single(e => e.FullName.EndsWith(suffix, StringComparison.Ordinal));
        using var input = entry.Open();
        using var content = new MemoryStream();
        input.CopyTo(content);
        return content.ToArray();
    }

    private static void Add(ZipArchive zip, string name, byte[] bytes, CompressionLevel level)
    {
        var entry = zip.CreateEntry(name, level);
        using var stream = entry.Open();
        stream.Write(bytes);
    }

    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        return bytes;
    }
}
