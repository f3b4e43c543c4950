using System.Text;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// Reads checkpoints into float32 tensors without running anything the file names: PyTorch's zip format
/// (torch >= 1.6), its legacy format (torch &lt; 1.6, the official Res2Net weights of 2019) and safetensors, told apart
/// by their content. Every failure surfaces as one <see cref="CheckpointException"/> that names the file.
/// </summary>
/// <remarks>
/// <see cref="Read(string)"/> returns every tensor in memory. To load a network without that copy, open the file with
/// <see cref="CheckpointFile.Open(string)"/> (or use <see cref="CheckpointLoader"/>), which reads tensors one at a time.
/// </remarks>
public static class CheckpointReader
{
    /// <summary>Reads the state dict of the checkpoint at <paramref name="path"/>.</summary>
    public static StateDict Read(string path)
    {
        using var file = CheckpointFile.Open(path);
        return file.ReadAll();
    }

    /// <summary>Reads a checkpoint from <paramref name="stream"/>; <paramref name="displayName"/> names it in messages.</summary>
    public static StateDict Read(Stream stream, string displayName)
    {
        using var file = CheckpointFile.Open(stream, displayName, leaveOpen: true);
        return file.ReadAll();
    }

    /// <summary>Recognises the format and indexes the file.</summary>
    /// <exception cref="CheckpointException">Every failure.</exception>
    public static CheckpointFormat DetectFormat(string path)
    {
        using var file = CheckpointFile.Open(path);
        return file.Format;
    }

    /// <summary>
    /// Runs <paramref name="body"/>, turning the exceptions that corrupt input can raise inside the readers (and the
    /// BCL parts they use: zip, JSON, UTF-8) into a <see cref="CheckpointException"/> naming <paramref name="file"/>.
    /// </summary>
    internal static T Guard<T>(string file, Func<T> body)
    {
        try
        {
            return body();
        }
        catch (CheckpointException)
        {
            throw;
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or NotSupportedException
                                      or DecoderFallbackException or PickleError or System.Text.Json.JsonException)
        {
            throw new CheckpointException(file, $"cannot read checkpoint: {e.Message}", e);
        }
    }

    internal static TensorTable OpenTable(Stream stream, string file)
    {
        long start = stream.Position;
        long length = stream.Length - start;
        var head = new byte[512];
        int headLength = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = start;
        var headSpan = head.AsSpan(0, headLength);

        if (headLength == 0)
            throw new CheckpointException(file, "file is empty; expected a PyTorch or safetensors checkpoint");
        // safetensors first: its size field can begin with any byte, 'P' 'K' and 0x80 included.
        if (SafetensorsReader.LooksLikeSafetensors(headSpan, length))
            return SafetensorsReader.Open(stream, file);
        if (headLength >= 2 && head[0] == (byte)'P' && head[1] == (byte)'K')
        {
            try
            {
                return ZipCheckpointReader.Open(stream, file);
            }
            catch (InvalidDataException e)
            {
                throw new CheckpointException(file, $"corrupt or truncated zip archive: {e.Message}", e);
            }
        }
        // A pickle starts with PROTO and a protocol of at most 5; torch's legacy files use 2.
        if (head[0] == 0x80 && (headLength < 2 || head[1] <= 5))
            return LegacyCheckpointReader.Open(stream, file);
        if (SafetensorsReader.HasJsonAfterSize(headSpan))
            return SafetensorsReader.Open(stream, file); // reports the impossible header size
        if (head[0] == 0x80)
            return LegacyCheckpointReader.Open(stream, file); // reports the unsupported protocol
        if (headLength >= 262 && Encoding.ASCII.GetString(head, 257, 5) == "ustar")
            throw new CheckpointException(file, "this is a tar checkpoint from torch < 0.4; re-save it with a newer torch (torch.save(torch.load(f), f2))");

        string hex = Convert.ToHexString(head, 0, Math.Min(headLength, 8)).ToLowerInvariant();
        throw new CheckpointException(file,
            $"not a checkpoint this reader knows: the file starts with bytes {hex}. Accepted are PyTorch's zip format " +
            "(starts with 'PK', 504b, as torch.save writes since torch 1.6), its legacy format (the pickled magic number " +
            "0x1950a86a20f9469cfc6c, bytes 80028a0a6cfc9c46...) and safetensors (an 8-byte header size, then '{')");
    }
}
