package dev.tokenguard.sample;

import java.util.List;

/** A support ticket to summarize. */
record Ticket(String id, String text) {

    /** The fixed tickets the sample app works through, in order. */
    static final List<Ticket> ALL = List.of(
            new Ticket("T-1001", "I was charged twice for my March invoice (INV-20931). Please refund the duplicate "
                    + "payment; my bank shows both transactions as settled."),
            new Ticket("T-1002", "Since yesterday's update the mobile app crashes as soon as I open Settings. "
                    + "Android 14, Pixel 7. Reinstalling did not help."),
            new Ticket("T-1003", "The password reset email never arrives. I checked spam and tried three times "
                    + "over the last hour with the address on my account."),
            new Ticket("T-1004", "Our team plan shows 12 seats but we only have 9 users. We would like to reduce "
                    + "the seat count before the next billing cycle."),
            new Ticket("T-1005", "Exporting a report to CSV produces an empty file when the date range spans "
                    + "more than 90 days. Shorter ranges work fine."),
            new Ticket("T-1006", "The shipping label for order 55-1182 has the wrong postcode. The parcel is "
                    + "still at the depot; can you correct it before dispatch?"),
            new Ticket("T-1007", "Two-factor codes from the authenticator app are rejected after I moved to a "
                    + "new phone. I still have my backup codes but they fail too."),
            new Ticket("T-1008", "The API returns HTTP 502 for about 5% of requests to the search endpoint "
                    + "between 09:00 and 10:00 UTC, every weekday this week."),
            new Ticket("T-1009", "I would like to change the company name on our invoices from Acme Ltd to "
                    + "Acme Holdings Ltd, starting with the next invoice."),
            new Ticket("T-1010", "The dashboard takes over 30 seconds to load for accounts with more than "
                    + "200 projects. It used to load in a few seconds last month."),
            new Ticket("T-1011", "Webhook deliveries to our endpoint stopped at 14:20 yesterday. Our server "
                    + "is up and answers 200 to manual test requests."),
            new Ticket("T-1012", "Please delete all personal data for the user with email jane.doe@example.com "
                    + "under GDPR article 17 and confirm when it is done."));
}
