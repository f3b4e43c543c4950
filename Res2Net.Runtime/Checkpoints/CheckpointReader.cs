using System.Text;
using Res2Net.Runtime.IO;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// Reads PyTorch checkpoints (<c>torch.save</c> output: the zip format of torch >= 1.6, and the older legacy format)
/// into float32 tensors without running anything the file names. Every failure surfaces as one
/// <see cref="CheckpointException"/> that names the file.
/// </summary>
public static class CheckpointReader
{
    /// <summary>Reads the state dict of the checkpoint at <paramref name="path"/>.</summary>
    public static StateDict Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new CheckpointException(path, $"cannot open checkpoint: {e.Message}", e);
        }
        using (stream)
            return Read(stream, path);
    }

    /// <summary>Reads a checkpoint from <paramref name="stream"/>; <paramref name="displayName"/> names it in messages.</summary>
    public static StateDict Read(Stream stream, string displayName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(displayName);
        try
        {
            return ReadCore(stream, displayName);
        }
        catch (CheckpointException)
        {
            throw;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or NotSupportedException
                                      or DecoderFallbackException or PickleError)
        {
            throw new CheckpointException(displayName, $"cannot read checkpoint: {e.Message}", e);
        }
    }

    private static StateDict ReadCore(Stream stream, string file)
    {
        if (!stream.CanRead) throw new CheckpointException(file, "stream is not readable");
        if (!stream.CanSeek)
        {
            // Both formats need random access (zip central directory, legacy storage table), so buffer what the stream holds.
            var copy = new MemoryStream(BoundedRead.ReadToEnd(stream, out bool tooLarge));
            if (tooLarge) throw new CheckpointException(file, "stream is larger than the biggest array; pass a seekable stream");
            stream = copy;
        }

        long start = stream.Position;
        var head = new byte[512];
        int headLength = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = start;

        if (headLength == 0)
            throw new CheckpointException(file, "file is empty; expected a PyTorch checkpoint");
        if (headLength >= 2 && head[0] == (byte)'P' && head[1] == (byte)'K')
        {
            try
            {
                return ZipCheckpointReader.Read(stream, file);
            }
            catch (InvalidDataException e)
            {
                throw new CheckpointException(file, $"corrupt or truncated zip archive: {e.Message}", e);
            }
        }
        if (head[0] == 0x80)
        {
            byte[] all = BoundedRead.ReadToEnd(stream, out bool tooLarge);
            if (tooLarge) throw new CheckpointException(file, "legacy checkpoint is larger than the biggest array");
            return LegacyCheckpointReader.Read(all, file);
        }
        if (headLength >= 262 && Encoding.ASCII.GetString(head, 257, 5) == "ustar")
            throw new CheckpointException(file, "this is a tar checkpoint from torch < 0.4; re-save it with a newer torch (torch.save(torch.load(f), f2))");

        string hex = Convert.ToHexString(head, 0, Math.Min(headLength, 8)).ToLowerInvariant();
        throw new CheckpointException(file,
            $"not a PyTorch zip checkpoint: the file starts with bytes {hex}, not 'PK' (504b) as torch.save writes since torch 1.6; " +
            "the legacy (torch < 1.6) format is also accepted but begins with the pickled magic number 0x1950a86a20f9469cfc6c (bytes 80028a0a6cfc9c46...)");
    }
}
