using System.Buffers;
using Microsoft.AspNetCore.Http;

namespace Res2Net.Serving;

/// <summary>
/// A request's whole body in one pooled array. Kestrel enforces the body limit while it is read (413), and the pipe is
/// consumed as it is read, so a body larger than Kestrel's buffer never stalls the connection.
/// </summary>
internal sealed class RequestBody : IDisposable
{
    private byte[] _buffer;

    private RequestBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    /// <summary>The bytes as an array of their own (for the image decoder, which takes a whole array).</summary>
    public byte[] ToArray() => Span.ToArray();

    public static async Task<RequestBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader;
        long expected = request.ContentLength ?? 0;
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(expected, 4096, 1 << 20));
        int length = 0;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                foreach (var segment in result.Buffer)
                {
                    if (length + segment.Length > buffer.Length)
                    {
                        long size = Math.Max((long)buffer.Length * 2, (long)length + segment.Length);
                        if (size > Array.MaxLength) throw new ServingError(StatusCodes.Status413PayloadTooLarge, "the request body is larger than 2 GiB");
                        var larger = ArrayPool<byte>.Shared.Rent((int)size);
                        buffer.AsSpan(0, length).CopyTo(larger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = larger;
                    }
                    segment.Span.CopyTo(buffer.AsSpan(length));
                    length += segment.Length;
                }
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted) return new RequestBody(buffer, length);
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, []) is { Length: > 0 } buffer) ArrayPool<byte>.Shared.Return(buffer);
    }
}
