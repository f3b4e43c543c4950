using System.IO.Compression;
using System.Text;
using Res2Net.Runtime.IO;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// The zip layout torch.save has used since 1.6: <c>&lt;archive&gt;/data.pkl</c> is the pickle, and each storage it
/// references by persistent id lives uncompressed in <c>&lt;archive&gt;/data/&lt;key&gt;</c>. The archive folder is the
/// file's stem when it was saved, so it is discovered rather than assumed.
/// </summary>
internal sealed class ZipCheckpointReader : IStorageSource
{
    private const string PickleName = "data.pkl";

    /// <summary>torch never compresses entries; a deflated one may claim at most this multiple of the file's size.</summary>
    private const long MaxInflation = 64;

    private readonly string _file;
    private readonly string _prefix;
    private readonly Dictionary<string, ZipArchiveEntry> _entries;
    private bool _bigEndian;

    private readonly long _archiveLength;

    private ZipCheckpointReader(string file, string prefix, Dictionary<string, ZipArchiveEntry> entries, long archiveLength)
    {
        _archiveLength = archiveLength;
        _file = file;
        _prefix = prefix;
        _entries = entries;
    }

    /// <summary>Opens the archive and indexes its state dict; the returned table keeps the archive open for reading.</summary>
    public static TensorTable Open(Stream stream, string file)
    {
        var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        try
        {
            var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                if (!entries.TryAdd(entry.FullName, entry))
                    throw new CheckpointException(file, $"zip archive lists entry '{entry.FullName}' twice");
            }

            var pickles = entries.Keys.Where(IsTopLevelPickle).ToList();
            if (pickles.Count == 0)
                throw new CheckpointException(file, DescribeMissingPickle(entries.Keys));
            if (pickles.Count > 1)
                throw new CheckpointException(file, $"zip archive holds several pickles ({string.Join(", ", pickles.Take(5))}); expected one <archive>/{PickleName}");
            string pickleName = pickles[0];
            string prefix = pickleName[..^PickleName.Length];

            var reader = new ZipCheckpointReader(file, prefix, entries, stream.Length);
            reader._bigEndian = reader.ReadByteOrder();
            var pickleEntry = entries[pickleName];
            if (pickleEntry.Length > Math.Max(stream.Length, 1L << 20) * MaxInflation)
                throw new CheckpointException(file, $"entry '{pickleName}' claims {pickleEntry.Length} bytes, far more than the {stream.Length}-byte file could inflate to");
            byte[] pickle = reader.ReadEntry(pickleEntry, pickleEntry.Length);
            var top = new Unpickler(pickle, 0, pickle.Length, file, pickleName, pid => TorchPersistentIds.Parse(pid, legacy: false)).Load();
            var (dict, wrapper) = StateDictAssembler.Locate(top, file);
            var table = StateDictAssembler.Index(dict, wrapper, reader, file);
            return new TensorTable(CheckpointFormat.TorchZip, wrapper, table, EmptyMetadata, zip);
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    private static readonly IReadOnlyDictionary<string, string> EmptyMetadata = new Dictionary<string, string>();

    private static bool IsTopLevelPickle(string name) =>
        name == PickleName || (name.EndsWith("/" + PickleName, StringComparison.Ordinal) && name.IndexOf('/') == name.Length - PickleName.Length - 1);

    private static string DescribeMissingPickle(IEnumerable<string> names)
    {
        var list = names.ToList();
        if (list.Any(n => n.EndsWith("/constants.pkl", StringComparison.Ordinal) || n.Contains("/code/", StringComparison.Ordinal)))
            return "this is a TorchScript archive (torch.jit.save), not a torch.save checkpoint; save model.state_dict() with torch.save instead";
        string shown = string.Join(", ", list.Take(10)) + (list.Count > 10 ? $", ... ({list.Count} entries)" : "");
        return $"not a PyTorch zip checkpoint: the zip archive has no <archive>/{PickleName} entry (entries: {(list.Count == 0 ? "none" : shown)})";
    }

    /// <summary>torch >= 1.10 records the writer's byte order; older files are always little-endian.</summary>
    private bool ReadByteOrder()
    {
        if (!_entries.TryGetValue(_prefix + "byteorder", out var entry)) return false;
        if (entry.Length > 16)
            throw new CheckpointException(_file, $"'{entry.FullName}' is {entry.Length} bytes; expected 'little' or 'big'");
        string order = Encoding.ASCII.GetString(ReadEntry(entry, entry.Length)).Trim();
        return order switch
        {
            "little" => false,
            "big" => true,
            _ => throw new CheckpointException(_file, $"'{entry.FullName}' says '{order}'; expected 'little' or 'big'"),
        };
    }

    public long DeclaredBytes(string key)
    {
        if (!_entries.TryGetValue(_prefix + "data/" + key, out var entry))
            throw new CheckpointException(_file, $"storage '{key}' is referenced by the pickle but the archive has no entry '{_prefix}data/{key}'");
        bool stored = entry.CompressedLength == entry.Length;
        if (stored ? entry.Length > _archiveLength : entry.Length > MaxInflation * Math.Max(_archiveLength, 1L << 20))
            throw new CheckpointException(_file,
                $"entry '{entry.FullName}' claims {entry.Length} bytes, more than the {_archiveLength}-byte file can hold; the file is truncated or corrupt");
        return entry.Length;
    }

    public byte[] Load(string key, long byteCount, int elementSize)
    {
        var entry = _entries[_prefix + "data/" + key];
        byte[] bytes = ReadEntry(entry, byteCount);
        if (_bigEndian) TensorMaterializer.SwapToLittleEndian(bytes, elementSize);
        return bytes;
    }

    // A stored (uncompressed) entry cannot hold more bytes than the archive itself, so its length is a safe
    // allocation size; a deflated entry's length is only a claim until it is inflated.
    public bool CanReadDirectly(string key, long byteCount)
    {
        var entry = _entries[_prefix + "data/" + key];
        return !_bigEndian && entry.CompressedLength == entry.Length && entry.Length <= _archiveLength && byteCount <= entry.Length;
    }

    public void ReadInto(string key, Span<byte> destination)
    {
        var entry = _entries[_prefix + "data/" + key];
        try
        {
            using var stream = new Crc32ReadStream(entry.Open());
            int got = stream.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
            if (got < destination.Length)
                throw new CheckpointException(_file,
                    $"entry '{entry.FullName}' ends after {got} bytes but {destination.Length} are needed (zip directory says {entry.Length}); the file is truncated or corrupt");
            CheckCrc(entry, stream);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointException(_file, $"entry '{entry.FullName}' cannot be read: {e.Message}", e);
        }
    }

    private byte[] ReadEntry(ZipArchiveEntry entry, long byteCount)
    {
        if (byteCount > Array.MaxLength)
            throw new CheckpointException(_file, $"entry '{entry.FullName}' is too large ({byteCount} bytes) to read into memory");
        try
        {
            using var stream = new Crc32ReadStream(entry.Open());
            // A stored entry that fits the archive really has its bytes; a deflated one's size is only a claim.
            bool verified = entry.CompressedLength == entry.Length && entry.Length <= _archiveLength && byteCount <= entry.Length;
            byte[] bytes = BoundedRead.TryReadExactly(stream, byteCount, out long got, verified)
                ?? throw new CheckpointException(_file,
                    $"entry '{entry.FullName}' ends after {got} bytes but {byteCount} are needed (zip directory says {entry.Length}); the file is truncated or corrupt");
            CheckCrc(entry, stream);
            return bytes;
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointException(_file, $"entry '{entry.FullName}' cannot be read: {e.Message}", e);
        }
    }

    /// <summary>
    /// Compares the CRC-32 the zip directory records for <paramref name="entry"/> with that of its bytes, so that a
    /// flipped bit in a tensor fails the load instead of loading wrong weights.
    /// </summary>
    private void CheckCrc(ZipArchiveEntry entry, Crc32ReadStream stream)
    {
        if (stream.FindDamage(entry) is { } damage) throw new CheckpointException(_file, damage);
    }
}
