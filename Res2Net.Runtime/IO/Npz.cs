using System.IO.Compression;

namespace Res2Net.Runtime.IO;

/// <summary>
/// NumPy's .npz archives (<c>np.savez</c> / <c>np.savez_compressed</c>): a zip whose entries are .npy files named after
/// their keys. The reference scripts use them to ship whole state dicts and activation sets as float32.
/// </summary>
public static class Npz
{
    private const string Extension = ".npy";

    /// <summary>Reads every array of the archive, keyed as numpy keys them (entry name without <c>.npy</c>), in archive order.</summary>
    public static IReadOnlyDictionary<string, (float[] Data, int[] Shape)> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NpyException(path, "file", $"cannot open: {e.Message}", e);
        }
        using (stream)
            return Read(stream, path);
    }

    /// <summary>Reads an .npz image from <paramref name="stream"/>; <paramref name="displayName"/> names it in messages.</summary>
    public static IReadOnlyDictionary<string, (float[] Data, int[] Shape)> Read(Stream stream, string displayName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(displayName);
        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            var result = new Dictionary<string, (float[] Data, int[] Shape)>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                if (entry.FullName.EndsWith('/')) continue; // directory record
                if (!entry.FullName.EndsWith(Extension, StringComparison.Ordinal))
                    throw new NpyException(displayName, "archive", $"entry '{entry.FullName}' is not a .npy array");
                string key = entry.FullName[..^Extension.Length];
                if (result.ContainsKey(key))
                    throw new NpyException(displayName, "archive", $"array '{key}' appears twice");
                using var entryStream = new Crc32ReadStream(entry.Open());
                (float[] Data, int[] Shape) array;
                try
                {
                    array = Npy.Read(entryStream, $"{displayName}/{entry.FullName}");
                }
                catch (NpyException e)
                {
                    // A flipped bit in the header reads as a bad dtype or shape; the damage is the cause to report.
                    if (entryStream.FindDamage(entry) is { } damaged) throw new NpyException(displayName, "archive", damaged, e);
                    throw;
                }
                // As numpy's zipfile does on load, and ZipArchive does not: a flipped bit in the data would otherwise
                // be read as a wrong number without any error.
                if (entryStream.FindDamage(entry) is { } damage) throw new NpyException(displayName, "archive", damage);
                result.Add(key, array);
            }
            return result;
        }
        catch (NpyException)
        {
            throw;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NotSupportedException)
        {
            throw new NpyException(displayName, "archive", $"not a readable .npz (zip) archive: {e.Message}", e);
        }
    }

    /// <summary>
    /// Writes float32 arrays as an .npz archive that <c>np.load</c> reads; <paramref name="compress"/> deflates like
    /// savez_compressed. Written through <see cref="AtomicFileWriter"/>, like every file we write.
    /// </summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, (float[] Data, int[] Shape)>> arrays, bool compress = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(arrays);
        using var output = AtomicFileWriter.Create(path);
        using (var zip = new ZipArchive(output.Stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (key, (data, shape)) in arrays)
            {
                var entry = zip.CreateEntry(key + Extension, compress ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
                using var entryStream = entry.Open();
                Npy.Write(entryStream, data, shape);
            }
        }
        output.Commit();
    }
}
