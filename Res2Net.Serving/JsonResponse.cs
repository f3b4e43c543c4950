using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Res2Net.Serving;

/// <summary>Writes a JSON answer straight into the response's pipe (no string or intermediate buffer, however many logits).</summary>
internal static class JsonResponse
{
    public const string ContentType = "application/json; charset=utf-8";

    /// <summary>
    /// Quotes and apostrophes written as they are (<c>'nope'</c>, not <c>\u0027nope\u0027</c>): the answers are JSON for
    /// API clients, never pasted into HTML, so the default encoder's HTML escaping would only make messages hard to read.
    /// </summary>
    private static readonly JsonWriterOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static async Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = ContentType;
        await using (var writer = new Utf8JsonWriter(response.BodyWriter, Options))
        {
            write(writer);
        }
        await response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The Open Inference Protocol's error object: <c>{"error": "…"}</c>.</summary>
    public static Task WriteErrorAsync(HttpContext context, int status, string message, TimeSpan? retryAfter = null)
    {
        if (retryAfter is { } wait) context.Response.Headers.RetryAfter = ServingError.Seconds(wait).ToString(System.Globalization.CultureInfo.InvariantCulture);
        return WriteAsync(context, status, w =>
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        });
    }
}
