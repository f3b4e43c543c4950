namespace Res2Net.Runtime.IO;

/// <summary>
/// Reading a count that came from a file header. Lengths in hostile files can lie, so the buffer grows only as
/// bytes actually arrive: a header claiming gigabytes over a short stream costs at most one chunk before the
/// shortfall is reported.
/// </summary>
internal static class BoundedRead
{
    /// <summary>Claims up to this size are trusted with one upfront allocation.</summary>
    private const int DirectLimit = 1 << 20;

    /// <summary>
    /// Reads exactly <paramref name="count"/> bytes, or returns null when the stream ends first
    /// (<paramref name="got"/> then says how many bytes there were). With <paramref name="countIsVerified"/> the caller
    /// has checked that the bytes exist (e.g. against the file's length), so one allocation is safe.
    /// </summary>
    public static byte[]? TryReadExactly(Stream stream, long count, out long got, bool countIsVerified = false)
    {
        if (count < 0 || count > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(count));
        if (count <= DirectLimit || countIsVerified)
        {
            var buffer = new byte[count];
            int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            got = read;
            return read == count ? buffer : null;
        }

        var chunks = new List<byte[]>();
        long total = 0;
        while (total < count)
        {
            var chunk = new byte[Math.Min(DirectLimit, count - total)];
            int read = stream.ReadAtLeast(chunk, chunk.Length, throwOnEndOfStream: false);
            total += read;
            if (read < chunk.Length)
            {
                got = total;
                return null;
            }
            chunks.Add(chunk);
        }
        var result = new byte[count];
        long at = 0;
        foreach (var chunk in chunks)
        {
            chunk.CopyTo(result, at);
            at += chunk.Length;
        }
        got = total;
        return result;
    }

    /// <summary>Reads the whole stream, however long it turns out to be (up to the largest array).</summary>
    public static byte[] ReadToEnd(Stream stream, out bool tooLarge)
    {
        using var memory = new MemoryStream();
        var buffer = new byte[1 << 20];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (memory.Length + read > Array.MaxLength)
            {
                tooLarge = true;
                return [];
            }
            memory.Write(buffer, 0, read);
        }
        tooLarge = false;
        return memory.ToArray();
    }
}
